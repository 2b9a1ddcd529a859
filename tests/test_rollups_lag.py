"""After a busy night a manager's page does not wait for the roll-ups' catch-up: beyond
``ROLLUPS_READ_SLICES`` marked slices it answers from the figures as they stand, says their time
(page notice, API ``figures``), and a background thread catches up once the answer is sent. A small
backlog is still caught up first, and exports never lag (SQLite and PostgreSQL)."""
from datetime import date

import pytest
from maintenance_helpers import log_contact
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.indicators import rollups
from outreach.models import RollupDirty, User
from outreach.security import new_api_token

MARCH, APRIL = date(2026, 3, 12), date(2026, 4, 3)
QUERY = {"from": "2026-03", "to": "2026-04", "indicator": "contacts", "provisional": "1"}


@pytest.fixture
def app_config():
    return {"ROLLUPS_READ_SLICES": 1}


def _token(app, email="supervisor@aurore.demo"):
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one()
        clear = new_api_token(user, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


def _marks(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(RollupDirty)).scalar_one()


def _write(app, days_and_teams):
    """Contacts of Aurore, committed: one mark per contact's (team, month)."""
    with app.app_context():
        for day, team in days_and_teams:
            log_contact(day, team=team)
        db.session.commit()
        return db.session.execute(select(func.min(RollupDirty.marked_at))).scalar_one()


def _contacts(client, headers):
    response = client.get("/api/v1/indicators", headers=headers, query_string=QUERY)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    response.close()  # the server's end of the answer: a lagging read starts its catch-up here
    return body["items"][0]["value"], body["figures"]


def _background_done():
    thread = rollups._background["thread"]
    if thread is not None:
        thread.join()  # the catch-up thread's end (an event, not a delay)


def test_a_large_backlog_is_answered_at_once_with_the_figures_time_then_caught_up(app, client):
    headers = _token(app)
    _write(app, [(MARCH, "aurore_nord")])
    # one slice (within ROLLUPS_READ_SLICES): caught up before answering
    assert _contacts(client, headers) == (1, {"current": True, "as_of": None})
    as_of = _write(app, [(MARCH, "aurore_nord"), (MARCH, "aurore_est"), (APRIL, "aurore_nord")])

    response = client.get("/api/v1/indicators", headers=headers, query_string=QUERY)
    body = response.get_json()
    assert body["items"][0]["value"] == 1  # as they stood: the three new contacts not yet in
    assert body["figures"] == {"current": False,
                               "as_of": as_of.isoformat(timespec="seconds") + "Z"}
    assert _marks(app) == 3  # nothing rebuilt before answering
    response.close()
    _background_done()

    assert _marks(app) == 0
    assert _contacts(client, headers) == (4, {"current": True, "as_of": None})


def test_the_dashboard_says_its_figures_are_being_updated_and_then_drops_the_notice(
        app, client, login):
    login("supervisor@aurore.demo")
    _write(app, [(MARCH, "aurore_nord"), (MARCH, "aurore_est"), (APRIL, "aurore_nord")])
    response = client.get("/indicateurs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Chiffres arrêtés " in page and "mise à jour en cours" in page
    response.close()
    _background_done()
    page = client.get("/indicateurs").get_data(as_text=True)
    assert "Chiffres arrêtés" not in page and _marks(app) == 0


def test_an_export_never_lags_it_catches_up_first(app, client, login):
    login("supervisor@aurore.demo")
    _write(app, [(MARCH, "aurore_nord"), (MARCH, "aurore_est"), (APRIL, "aurore_nord")])
    response = client.get("/export/indicateurs.csv", query_string=QUERY)
    assert response.status_code == 200
    assert _marks(app) == 0  # caught up before the file was written, not after
