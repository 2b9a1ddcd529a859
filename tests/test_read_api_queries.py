"""The read API evaluates once per request: one board whose reads every indicator and group
shares, so the number of SQL statements of one read does not grow with the number of indicators;
its values are the dashboard's cells, protected alike."""
from datetime import date

import pytest
from export_helpers import seed_contacts
from sqlalchemy import event, select
from test_exports_read_api import _token

from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators import services as ind
from outreach.indicators.rollups import add_months
from outreach.models import User


def _statements(app, client, headers, query):
    """(SQL statements run while answering ``query``, the JSON answer)."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/api/v1/indicators", headers=headers, query_string=query)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(seen), response.get_json()


def _all_codes(app):
    with app.app_context():
        plan = ind.load_plan()
        return [i.code for a in plan.axes for x in a.actions for i in x.indicators]


@pytest.mark.parametrize("group_by", [None, "month", "team", "organisation"])
def test_the_statements_of_one_read_do_not_grow_with_the_indicators(app, client, group_by):
    seed_contacts(app)
    headers = _token(app, "manager@plan.demo")
    codes = _all_codes(app)
    assert len(codes) > 10
    base = {"from": _six_months_ago(), **({"group_by": group_by} if group_by else {})}
    # warm-up
    client.get("/api/v1/indicators", headers=headers,
               query_string={**base, "indicator": "contacts"})
    one, body = _statements(app, client, headers, {**base, "indicator": "contacts"})
    every, body_all = _statements(app, client, headers, {**base, "per_page": 100})
    assert len(body["items"]) == 1 and len(body_all["items"]) == len(codes)
    # a few reads more for what only some indicators use (persons, file active, medians, item and
    # site filters), once per group at most: less than one statement per indicator added, where the
    # old code built a board per indicator (268 statements for 40 indicators, 1395 by month)
    assert every - one < len(codes) - 1, (one, every, len(codes))


def test_the_api_publishes_the_dashboards_cells(app, client):
    """Every value and group of one read equals the same cell evaluated alone, as the dashboard
    and the drill-down pages do (a board of its own per cell: the naive reference)."""
    seed_contacts(app)
    headers = _token(app, "manager@plan.demo")
    for group_by, page in [(g, p) for g in ("month", "team", "sector", "organisation")
                           for p in (1, 2)]:
        # 40 indicators a page: within READ_MAX_VALUES whatever the groups (11 sectors); two pages
        body = client.get("/api/v1/indicators", headers=headers,
                          query_string={"from": _six_months_ago(), "group_by": group_by,
                                        "per_page": 40, "page": page}).get_json()
        assert "suppression" in body, (group_by, body)
        assert body["suppression"]["applied"] is True
        with app.test_request_context():
            user = db.session.execute(
                select(User).filter_by(email="manager@plan.demo")).scalar_one()
            period = ind.Period(
                *(date.fromisoformat(body["period"][k]).replace(day=1) for k in ("from", "to")))
            items = {i.code: i for a in ind.load_plan().axes for x in a.actions
                     for i in x.indicators}
            keys = ind.dimension_keys(group_by, period, {})
            for got in body["items"]:
                item = items[got["indicator"]]
                assert got["shown"] == _shown(ind.Dashboard(period, {}, user).row(item)["value"])
                for (key, label), group in zip(keys, got["groups"], strict=True):
                    sub_period = ind.Period(key, key) if group_by == "month" else period
                    sub = {} if group_by == "month" else {f"{group_by}_id": key}
                    alone = ind.Dashboard(sub_period, sub, user).published(item, sub_period)
                    assert (str(label), group["shown"]) == (group["key"], _shown(alone)), item.code
            db.session.rollback()


def _six_months_ago():
    """Six months up to this one: every indicator by month within READ_MAX_VALUES."""
    return add_months(local_today().replace(day=1), -5).isoformat()


def _shown(value):
    if isinstance(value, float):
        value = round(value, 4)
    return "" if value is None else str(value)
