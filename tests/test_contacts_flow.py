"""Plain-POST field logging: shift, contacts, scope, one person code across organisations, no
raw-input leak."""
import logging
import re

from conftest import do_login

from outreach.extensions import db
from outreach.models import Contact, Person, Referral, Shift


def _start(client, team):
    return (client.post("/maraude", data={"team": team, "staff_count": "2", "sectors": [],
                                          "stock_out-kit_base": "20"}))


def _known(client, name="ZORGLUBIX", **extra):
    data = {"kind": "known", "pseudo_initial": "Q", "pseudo_name": name, "pseudo_birth": "1977",
            "sex": "m", "material-kit_base": "1"}
    data.update(extra)
    return client.post("/maraude/contacts", data=data)


def _team(app, email):
    with app.app_context():
        from outreach.models import User
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        return user.teams[0].code


def test_shift_contacts_close(app, client, login):
    login("worker@aurore.demo")
    assert _start(client, _team(app, "worker@aurore.demo")).status_code == 302
    assert _known(client).status_code == 302
    assert "Contact enregistré" in client.get("/maraude").get_data(as_text=True)
    assert _known(client).status_code == 302
    client.post("/maraude/contacts", data={"kind": "anonymous", "people_count": "3"})
    client.post("/maraude/contacts", data={"kind": "refusal"})
    client.post("/maraude/contacts", data={"kind": "anonymous", "referral-assore": "1"})
    client.post("/maraude/contacts",
                data={"kind": "anonymous", "orientation-csapa": "1", "accompanied-csapa": "1"})
    with app.app_context():
        shift = db.session.execute(db.select(Shift)).scalar_one()
        shift_id = shift.id
    assert client.post(f"/maraude/{shift_id}/close",
                       data={"ambiance": "calme", "stock_back-kit_base": "5"}).status_code == 302
    with app.app_context():
        contacts = db.session.execute(db.select(Contact)).scalars().all()
        assert sorted(c.kind for c in contacts) == ["anonymous"] * 3 + ["known"] * 2 + ["refusal"]
        assert db.session.query(Person).count() == 1
        assert [r.status for r in db.session.execute(db.select(Referral)).scalars()] == ["proposed"]
        assert db.session.get(Shift, shift_id).status == "closed"


def test_undo_last_contact(app, client, login):
    login("worker@aurore.demo")
    _start(client, _team(app, "worker@aurore.demo"))
    _known(client)
    with app.app_context():
        contact_id = db.session.execute(db.select(Contact.id)).scalar_one()
    assert client.post(f"/maraude/contacts/{contact_id}/undo").status_code == 302
    with app.app_context():
        assert db.session.query(Contact).count() == 0


def test_two_organisations_one_code_and_scope(app, client, login):
    login("worker@aurore.demo")
    _start(client, _team(app, "worker@aurore.demo"))
    _known(client)
    with app.app_context():
        aurore_contact = db.session.execute(db.select(Contact.id)).scalar_one()
    client = app.test_client()
    do_login(client, "worker@gaia.demo")
    _start(client, _team(app, "worker@gaia.demo"))
    _known(client)
    page = client.get("/maraude").get_data(as_text=True)
    assert client.post(f"/maraude/contacts/{aurore_contact}/undo").status_code == 404
    with app.app_context():
        assert db.session.query(Person).count() == 1
        assert db.session.query(Contact).count() == 2
    # as read on screen (the count is in its own span)
    assert "1 contact(s)" in re.sub(r"<[^>]+>", "", page)


def test_bad_input_names_field(client, app, login):
    login("worker@aurore.demo")
    _start(client, _team(app, "worker@aurore.demo"))
    for data, field in [({"kind": "nope"}, "kind"),
                        ({"kind": "anonymous", "people_count": "x"}, "people_count"),
                        ({"kind": "anonymous", "sector": "zz"}, "sector"),
                        ({"kind": "anonymous", "material-kit_base": "-3"}, "materials"),
                        ({"kind": "known"}, "digest"),
                        ({"kind": "anonymous", "occurred_at": "99"}, "occurred_at")]:
        response = client.post("/maraude/contacts", data=data)
        assert response.status_code in (400, 409, 422), data
        assert field in response.get_data(as_text=True)


def test_raw_inputs_never_leak(app, client, login, caplog, backend):
    caplog.set_level(logging.DEBUG)
    login("worker@aurore.demo")
    _start(client, _team(app, "worker@aurore.demo"))
    bodies = [_known(client).get_data(), _known(client, people_count="x").get_data(),
              client.get("/maraude").get_data()]
    db_bytes = b""
    if backend == "sqlite":
        with app.app_context():
            db.session.close()
            db.engine.dispose()
            with open(db.engine.url.database, "rb") as fh:
                db_bytes = fh.read()
    for blob in bodies + [db_bytes, caplog.text.encode()]:
        assert b"ZORGLUBIX" not in blob.upper()
