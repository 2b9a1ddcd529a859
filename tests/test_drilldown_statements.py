"""A drill-down by team or organisation reads every group at once: the SQL statements of the read
API by team, and of an indicator's page by team, do not grow with the number of teams (one
persons statement for all of them, not one per team), and the values stay those of each team
read alone."""

from datetime import timedelta

import pytest
from conftest import do_login
from export_helpers import _row, import_rows, seed_contacts
from sqlalchemy import select
from test_exports_read_api import _token
from test_reference_cache import Statements

from outreach.contract import local_today
from outreach.extensions import db
from outreach.models import Organisation, Team

EXTRA = 6


def _more_teams(app):
    """``EXTRA`` more teams in aurore, each with a known person met once last month."""
    day = local_today().replace(day=1) - timedelta(days=20)
    with app.app_context():
        org = db.session.execute(select(Organisation).filter_by(code="aurore")).scalar_one()
        for i in range(EXTRA):
            db.session.add(Team(organisation_id=org.id, code=f"extra_{i}",
                                name=f"Équipe extra {i}"))
        db.session.commit()
    with app.app_context(), app.test_request_context():
        import_rows("aurore", [_row(day, f"extra_{i}", kind="known", digest=f"{300 + i:064x}")
                               for i in range(EXTRA)])
        db.session.commit()


def _count(app, client, url, headers=None):
    client.get(url, headers=headers)  # the roll-ups caught up, the lists read
    with Statements(app) as seen:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return len(seen), response


API = "/api/v1/indicators?per_page=10&group_by="


@pytest.mark.parametrize("by", ["team", "organisation"])
def test_the_read_api_by_group_does_not_grow_with_the_groups(app, client, by):
    seed_contacts(app)
    headers = _token(app, "manager@plan.demo")
    codes = "&".join(f"indicator={c}" for c in ("contacts", "distinct_persons", "new_persons",
                                                  "persons_multi_org", "file_active",
                                                  "kits_per_person"))
    url = f"{API}{by}&{codes}"
    before, _ = _count(app, client, url, headers)
    _more_teams(app)
    after, response = _count(app, client, url, headers)
    assert after <= before, (before, after)
    # distinct, new and multi-organisation persons: one statement each; the months' sign-off
    # states one
    assert after <= 23, after
    if by == "team":
        groups = {g["key"]: g for item in response.get_json()["items"]
                  if item["indicator"] == "distinct_persons" for g in item["groups"]}
        assert {f"Équipe extra {i}" for i in range(EXTRA)} <= set(groups)


def test_an_indicators_page_by_team_does_not_grow_with_the_teams(app, client):
    seed_contacts(app)
    do_login(client, "manager@plan.demo")
    for code in ("contacts", "distinct_persons"):
        url = f"/indicateurs/{code}?by=team"
        before, _ = _count(app, client, url)
        _more_teams(app) if code == "contacts" else None
        after, response = _count(app, client, url)
        assert after <= before + 1 and after <= 16, (code, before, after)
    assert "Équipe extra 0" in response.get_data(as_text=True)


def test_the_dashboard_page_evaluates_once_with_its_month_in_progress(app, client):
    """One board for the page: the month in progress is read with the twelve months (one check
    for roll-up marks, one read of the cells), and its values are those of a board of its own."""
    from outreach.indicators import services as ind
    from outreach.models import User

    seed_contacts(app)
    do_login(client, "manager@plan.demo")
    client.get("/indicateurs")
    with Statements(app) as seen:
        assert client.get("/indicateurs").status_code == 200
    assert len([s for s in seen if "FROM rollup_dirty" in s]) == 1, seen
    assert len(seen) <= 32, len(seen)
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email="manager@plan.demo")).scalar_one()
        period = ind.parse_period({})
        _plan, actions, (month, shared) = ind.dashboard(period, {}, user, running=True)
        assert ind.month_to_date(actions, {}, user) == (month, shared)
