"""The known-or-new lookup is no oracle: open shift only, throttled per user, audited, alerts the
admin."""
import hashlib

import pytest
from conftest import do_login
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEvent, Organisation, User


@pytest.fixture
def app_config():
    return {"PERSON_LOOKUP_LIMIT": "6 per hour", "PERSON_LOOKUP_ALERT": "4 per hour"}


def _digest(n):
    return hashlib.sha256(f"guess-{n}".encode()).hexdigest()


def _look_up(client, n):
    return client.post("/maraude/person", json={"digest": _digest(n)})


def _start(app, client):
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        team = user.teams[0].code
    assert client.post("/maraude", data={"team": team, "staff_count": "1"}).status_code == 302


def _events(app, action):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars().all()


def test_no_lookup_outside_an_open_shift(app, client, login):
    login("worker@aurore.demo")
    response = _look_up(client, 1)
    assert response.status_code == 409
    assert "maraude ouverte" in response.get_json()["errors"]["shift_id"]
    assert not _events(app, "person.lookup")


def test_each_lookup_is_audited_without_the_digest(app, client, login):
    login("worker@aurore.demo")
    _start(app, client)
    client.post("/maraude/contacts", data={"kind": "known", "digest": _digest(1)})
    assert _look_up(client, 1).get_json()["known"] is True
    assert _look_up(client, 2).get_json()["known"] is False
    events = _events(app, "person.lookup")
    assert [e.after for e in events] == ["known", "new"]
    with app.app_context():
        worker = db.session.execute(select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        assert {e.actor_id for e in events} == {worker.id}
        assert {e.organisation_id for e in events} == {worker.organisation_id}
    for event in events:
        stored = (" ".join(str(v) for v in (event.target_id, event.before, event.after,
                                            event.reason, event.details)))
        assert _digest(1) not in stored and _digest(2) not in stored


def test_the_throttle_refuses_then_the_admin_sees_the_alert(app, client, login):
    login("worker@aurore.demo")
    _start(app, client)
    answers = [_look_up(client, n).status_code for n in range(10)]
    assert answers == [200] * 6 + [429] * 4
    assert "Trop de recherches" in _look_up(client, 99).get_json()["errors"]["digest"]
    # refused lookups answer nothing and count nothing
    assert len(_events(app, "person.lookup")) == 6
    alerts = _events(app, "person.lookup_alert")
    assert len(alerts) == 1 and alerts[0].details["lookups"] == 4
    with app.app_context():
        aurore = db.session.execute(select(Organisation.id).filter_by(code="aurore")).scalar()
    assert alerts[0].organisation_id == aurore
    other = app.test_client()  # the worker's own organisation admin is told, another one is not
    do_login(other, "admin@aurore.demo")
    page = other.get("/admin/utilisateurs").get_data(as_text=True)
    assert 'id="lookup-alerts"' in page and "worker@aurore.demo" in page
    assert ("worker@aurore.demo" in other.get(
        "/admin/journal?action=person.lookup_alert").get_data(as_text=True))
    gaia = app.test_client()
    with app.app_context():
        gaia_org = db.session.execute(select(Organisation).filter_by(code="gaia")).scalar_one()
        if not db.session.execute(select(User).filter_by(email="admin@gaia.demo")).first():
            from outreach.security import hash_password
            db.session.add(User(email="admin@gaia.demo", role="admin", organisation=gaia_org,
                                password_hash=hash_password("demo-password")))
            db.session.commit()
    do_login(gaia, "admin@gaia.demo")
    assert 'id="lookup-alerts"' not in gaia.get("/admin/utilisateurs").get_data(as_text=True)


def test_the_throttle_is_per_user(app, client, login):
    login("worker@aurore.demo")
    _start(app, client)
    for n in range(6):
        _look_up(client, n)
    assert _look_up(client, 7).status_code == 429
    with app.app_context():
        user = db.session.execute(
            select(User).filter_by(email="supervisor@aurore.demo")).scalar_one()
        team = user.teams[0].code
    other = app.test_client()
    do_login(other, "supervisor@aurore.demo")
    other.post("/maraude", data={"team": team, "staff_count": "1"})
    assert _look_up(other, 7).status_code == 200
