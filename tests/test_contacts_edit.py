"""Editing and deleting contacts from the current-shift page; sector chips from the shift's team."""
import datetime as dt
import re

from conftest import do_login

from outreach.extensions import db
from outreach.models import (
    AuditEvent,
    Contact,
    ContactMaterial,
    Person,
    Referral,
    Shift,
    User,
)
from outreach.shifts.services import local_clock

WORKER = "worker@aurore.demo"


def _team(app, email=WORKER):
    """(team code, [sector codes]) of the user's first team."""
    with app.app_context():
        team = db.session.execute(db.select(User).filter_by(email=email)).scalar_one().teams[0]
        return team.code, [s.code for s in team.sectors]


def _start(client, app, **extra):
    data = {"team": _team(app)[0], "staff_count": "2", "stock_out-kit_base": "20", **extra}
    assert client.post("/maraude", data=data).status_code == 302


def _known(client, name="ZORGLUBIX", **extra):
    data = {"kind": "known", "pseudo_initial": "Q", "pseudo_name": name, "pseudo_birth": "1977",
            "sex": "m", "material-kit_base": "1", **extra}
    assert client.post("/maraude/contacts", data=data).status_code == 302


def _only(app, model):
    with app.app_context():
        return db.session.execute(db.select(model)).scalars().one()


def _contact_ids(app):
    with app.app_context():
        return db.session.execute(
            db.select(Contact.id).order_by(Contact.occurred_at)).scalars().all()


def _shift_id(app):
    with app.app_context():
        return db.session.execute(db.select(Shift.id)).scalar_one()


def _set_status(app, status):
    with app.app_context():
        shift = db.session.execute(db.select(Shift)).scalar_one()
        shift.status = status
        db.session.commit()


def test_current_page_lists_contacts_with_edit_links(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    assert client.post("/maraude/contacts",
                       data={"kind": "anonymous", "people_count": "3"}).status_code == 302
    page = client.get("/maraude").get_data(as_text=True)
    items = re.findall(r"<li>(.*?)</li>", page.split('id="contacts"')[1], re.DOTALL)
    assert len(items) == 2 and "Passage anonyme ×3" in items[0]  # most recent first
    code = _only(app, Person).code[:6].upper()
    known = items[1]
    assert code in known and "Kit base" in known and "×1" in known
    assert re.search(r"\d\d:\d\d", known)
    for contact_id in _contact_ids(app):
        assert f"/maraude/contacts/{contact_id}" in page


def test_edit_form_is_prefilled_and_saves(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client, **{"needs": "hebergement", "orientation-csapa": "1", "referral-assore": "1"})
    contact_id = _contact_ids(app)[0]
    page = client.get(f"/maraude/contacts/{contact_id}").get_data(as_text=True)
    assert 'value="known" checked' in page and 'name="material-kit_base"' in page
    assert re.search(r'name="material-kit_base"[^>]*value="1"', page)
    assert ('value="hebergement" checked' in page
            and 'name="referral-assore" value="1" checked' in page)
    person_code = _only(app, Person).code
    form = {"kind": "known", "material-kit_base": "4", "material-naloxone": "1",
            "needs": ["hygiene"], "referral-assore": "1", "sex": "f", "age_band": "26_35"}
    response = client.post(f"/maraude/contacts/{contact_id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert {m.material.code: m.quantity
                for m in contact.materials} == {"kit_base": 4, "naloxone": 1}
        assert [n.code for n in contact.needs] == ["hygiene"] and contact.orientations == []
        assert (contact.sex, contact.age_band) == ("f", "26_35")
        assert contact.person.code == person_code  # no code inputs: the stored code is kept
        assert db.session.query(Referral).count() == 1
        # shift open
        assert db.session.query(AuditEvent).filter_by(action="contact.edit").count() == 0


def test_new_code_inputs_replace_the_code_and_never_leak(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    old_code = _only(app, Person).code
    response = client.post(f"/maraude/contacts/{contact_id}", data={
        "kind": "known", "pseudo_initial": "W", "pseudo_name": "QUIXOTERIA", "pseudo_birth": "1980",
        "sex": "f"}, follow_redirects=True)
    assert response.status_code == 200 and b"QUIXOTERIA" not in response.data.upper()
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert contact.person.code != old_code
        assert contact.materials == []
        texts = [e.after or "" for e in db.session.execute(db.select(AuditEvent)).scalars()]
        assert not any("QUIXOTERIA" in t.upper() for t in texts)


def test_change_kind_to_anonymous_group(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    assert client.post(f"/maraude/contacts/{contact_id}",
                       data={"kind": "anonymous", "people_count": "3"}).status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert (contact.kind, contact.people_count, contact.person) == ("anonymous", 3, None)


def test_delete_while_open_only(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    _known(client, name="AUTRE")
    first, second = _contact_ids(app)
    assert client.post(f"/maraude/contacts/{first}/supprimer").status_code == 302
    assert _contact_ids(app) == [second]
    assert client.post(f"/maraude/{_shift_id(app)}/close",
                       data={"ambiance": "calme"}).status_code == 302
    response = client.post(f"/maraude/contacts/{second}/supprimer")
    assert response.status_code == 403 and "close" in response.get_data(as_text=True)
    assert _contact_ids(app) == [second]


def test_edit_after_close_is_audited_and_listed(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    assert client.post(f"/maraude/{_shift_id(app)}/close",
                       data={"ambiance": "calme"}).status_code == 302
    page = client.get("/maraude").get_data(as_text=True)
    assert 'id="recent-shift"' in page and f"/maraude/contacts/{contact_id}" in page
    assert ('id="contact-delete"' not in client.get(
        f"/maraude/contacts/{contact_id}").get_data(as_text=True))
    assert client.post(f"/maraude/contacts/{contact_id}",
                       data={"kind": "known", "sex": "m",
                             "material-kit_base": "2"}).status_code == 302
    with app.app_context():
        events = db.session.execute(
            db.select(AuditEvent).filter_by(action="contact.edit")).scalars().all()
        assert [(e.field, e.before, e.after)
                for e in events] == [("materials", "kit_base:1", "kit_base:2")]
        assert events[0].target_id == contact_id


def test_validated_shift_hides_edit_and_answers_403(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    client.post(f"/maraude/{_shift_id(app)}/close", data={})
    _set_status(app, "validated")
    assert client.get(f"/maraude/contacts/{contact_id}").status_code == 403
    response = client.post(f"/maraude/contacts/{contact_id}", data={"kind": "refusal"})
    assert response.status_code == 403
    assert client.post(f"/maraude/contacts/{contact_id}/supprimer").status_code == 403
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    assert supervisor.post(f"/maraude/contacts/{contact_id}",
                           data={"kind": "refusal"}).status_code == 403
    with app.app_context():
        assert db.session.get(Contact, contact_id).kind == "known"
        assert db.session.query(ContactMaterial).count() == 1


def test_supervisor_edits_closed_shift_of_own_organisation(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    client.post(f"/maraude/{_shift_id(app)}/close", data={})
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    review = supervisor.get(f"/revue/maraude/{_shift_id(app)}").get_data(as_text=True)
    assert "· Personne · ×1" in review and "· known ·" not in review
    correction = supervisor.get(f"/revue/contact/{contact_id}/corriger").get_data(as_text=True)
    # its own control
    assert f'href="/maraude/contacts/{contact_id}">Modifier tout le contact' in correction
    assert supervisor.get(f"/maraude/contacts/{contact_id}").status_code == 200
    response = supervisor.post(f"/maraude/contacts/{contact_id}",
                               data={"kind": "known", "sex": "x"})
    assert (response.status_code == 302
            and f"/revue/maraude/{_shift_id(app)}" in response.headers["Location"])
    gaia = app.test_client()
    do_login(gaia, "worker@gaia.demo")
    assert gaia.get(f"/maraude/contacts/{contact_id}").status_code == 404
    assert gaia.post(f"/maraude/contacts/{contact_id}", data={"kind": "refusal"}).status_code == 404
    with app.app_context():
        assert db.session.get(Contact, contact_id).sex == "x"


def test_bad_edit_values_name_the_field(app, client, login):
    login(WORKER)
    _start(client, app)
    _known(client)
    contact_id = _contact_ids(app)[0]
    cases = [({"kind": ""}, "kind"), ({"kind": "alien"}, "kind"),
             ({"kind": "known", "sector": "mars"}, "sector"),
             ({"kind": "known", "material-kit_base": "-1"}, "materials"),
             ({"kind": "known", "material-kit_base": "1001"}, "materials"),
             ({"kind": "known", "products": "licorne"}, "products"),
             ({"kind": "anonymous", "people_count": "0"}, "people_count"),
             ({"kind": "known", "occurred_at": "25:99"}, "occurred_at"),
             ({"kind": "known", "sex": "\x00"}, "sex"),
             ({"kind": "known", "age_band": "é" * 5000}, "age_band"),
             ({"kind": "known", "digest": "zz"}, "digest")]
    for data, field in cases:
        response = client.post(f"/maraude/contacts/{contact_id}", data=data)
        assert 400 <= response.status_code < 500, (data, response.status_code)
        assert f'data-field="{field}"' in response.get_data(as_text=True), data
    for bad in ("not-a-uuid", "%00", "x" * 300):
        assert client.get(f"/maraude/contacts/{bad}").status_code == 404
        assert client.post(f"/maraude/contacts/{bad}", data={"kind": "known"}).status_code == 404


def test_time_outside_closed_shift_is_refused(app, client, login):
    login(WORKER)
    _start(client, app, started_at="")
    _known(client)
    contact_id = _contact_ids(app)[0]
    client.post(f"/maraude/{_shift_id(app)}/close", data={})
    with app.app_context():
        shift = db.session.get(Shift, _shift_id(app))
        later = local_clock(shift.ended_at + dt.timedelta(hours=2))
    response = client.post(f"/maraude/contacts/{contact_id}",
                           data={"kind": "known", "occurred_at": later})
    assert (response.status_code == 422
            and 'data-field="occurred_at"' in response.get_data(as_text=True))


def test_sector_chips_come_from_the_shift_team(app, client, login):
    login(WORKER)
    page = client.get("/maraude").get_data(as_text=True)
    start_form = page.split('id="shift-form"')[1].split("</form>")[0]
    for code in _team(app)[1]:
        assert f'name="sectors" value="{code}"' in start_form
    _start(client, app)  # no sector ticked: the team's list
    with app.app_context():
        shift = db.session.execute(db.select(Shift)).scalar_one()
        assert [s.code for s in shift.sectors] == [s.code for s in shift.team.sectors]
        codes = [s.code for s in shift.team.sectors]
    form = client.get("/maraude").get_data(as_text=True).split(
        'id="contact-form"')[1].split("</form>")[0]
    offered = re.findall(r'name="sector" value="([^"]+)"', form)
    assert offered == codes
    assert f'name="sector" value="{codes[0]}" checked' in form
    assert len(re.findall(r'name="sector" value="[^"]+" checked', form)) == 1


def test_start_with_chosen_sectors_defaults_contact_sector(app, client, login):
    login(WORKER)
    codes = _team(app)[1]
    _start(client, app, sectors=[codes[1]])
    form = client.get("/maraude").get_data(as_text=True).split(
        'id="contact-form"')[1].split("</form>")[0]
    assert f'name="sector" value="{codes[1]}" checked' in form
    assert re.findall(r'name="sector" value="([^"]+)"', form) == codes


def test_replayed_form_ids_never_make_a_second_row(app, client, login):
    login(WORKER)
    first_shift = "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a60"
    _start(client, app, id=first_shift)
    contact = {"kind": "anonymous", "id": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a61"}
    assert client.post("/maraude/contacts", data=contact).status_code == 302
    # double tap: saved once
    assert client.post("/maraude/contacts", data=contact).status_code == 302
    assert len(_contact_ids(app)) == 1
    client.post(f"/maraude/{first_shift}/close", data={})
    replay = client.post("/maraude", data={"team": _team(app)[0], "id": first_shift})
    assert replay.status_code == 409 and "id :" in replay.get_data(as_text=True)
    _start(client, app)
    reused = client.post("/maraude/contacts", data=contact)  # an id already used in another shift
    assert reused.status_code == 409 and "id :" in reused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Shift).count() == 2 and db.session.query(Contact).count() == 1
