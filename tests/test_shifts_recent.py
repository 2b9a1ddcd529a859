"""The worker's page lists the contacts of their last closed shift while they are still theirs to
finish, 48 hours after closing (the time its supervisor has to validate it), in the same few
statements however many contacts it holds; a shift closed longer ago is no longer listed."""
import datetime as dt

from sqlalchemy import event
from test_api_write import SHIFT_ID, _token, encounter_body, shift_body

from outreach.extensions import db
from outreach.models import Shift, utcnow


def _closed_shift_with(app, client, encounters):
    worker = {"Authorization": "Bearer " + _token(app, "worker@aurore.demo")}
    assert client.post("/api/v1/shifts", json=shift_body(), headers=worker).status_code == 201
    ids = []
    for minute in range(encounters):
        body = encounter_body(occurred_at=f"2026-11-27T22:{minute:02d}:00Z",
                              person={"digest": f"{minute:064x}", "weak": False})
        assert client.post("/api/v1/encounters", json=body, headers=worker).status_code == 201
        ids.append(body["id"])
    assert client.post(f"/api/v1/shifts/{SHIFT_ID}/close", json={},
                       headers=worker).status_code == 200
    return ids


def _closed_ago(app, hours):
    with app.app_context():
        db.session.get(Shift, SHIFT_ID).closed_at = utcnow() - dt.timedelta(hours=hours)
        db.session.commit()


def _page(app, client):
    """(the worker's shift page, SQL statements run to answer it)."""
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/maraude")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(seen)


def _listed(page, ids):
    """The ids of ``ids`` the page links to, in the page's order."""
    return sorted((i for i in ids if f"/maraude/contacts/{i}" in page),
                  key=lambda i: page.index(f"/maraude/contacts/{i}"))


def test_a_closed_shift_stays_listed_48_hours_after_closing_then_leaves(app, client, login):
    ids = _closed_shift_with(app, client, 3)
    login("worker@aurore.demo")
    _closed_ago(app, 47)
    page, _count = _page(app, client)
    assert 'id="recent-shift"' in page and _listed(page, ids) == ids[::-1]
    _closed_ago(app, 49)
    page, _count = _page(app, client)
    assert 'id="recent-shift"' not in page and _listed(page, ids) == []


def test_the_closed_shifts_list_reads_as_many_statements_for_one_contact_as_for_many(
        app, client, login):
    ids = _closed_shift_with(app, client, 12)
    login("worker@aurore.demo")
    page, many = _page(app, client)
    assert _listed(page, ids) == ids[::-1]
    with app.app_context():
        for contact in db.session.get(Shift, SHIFT_ID).contacts[1:]:
            db.session.delete(contact)
        db.session.commit()
    page, one = _page(app, client)
    assert len(_listed(page, ids)) == 1 and one == many
