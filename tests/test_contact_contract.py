"""One contact contract (outreach/contract.py) on every path that writes a contact: the logging
form, the JSON API the offline queue posts to, the import, the edit form and the supervisor's
corrections. Each impossible contact is refused with the field named and nothing written; the
database refuses it too; a time without a zone is Paris time everywhere (month end, both
daylight-saving changes)."""
import datetime as dt
import re
import uuid
from html import unescape
from pathlib import Path

import pytest
from conftest import BACKENDS, _make_app, _postgres_database, do_login
from sqlalchemy.exc import IntegrityError
from test_api_write import _token

from outreach import contract
from outreach.api.openapi import document
from outreach.contract import local_today
from outreach.extensions import db
from outreach.imports.services import import_contacts
from outreach.indicators import measures
from outreach.indicators.synthetic import build_history
from outreach.models import (
    AuditEvent,
    Contact,
    Organisation,
    Person,
    Referral,
    RefItem,
    RollupDirty,
    Shift,
    User,
)

ROOT = Path(__file__).resolve().parent.parent
WORKER, SUPERVISOR = "worker@aurore.demo", "supervisor@aurore.demo"
DIGEST = "c" * 64

# An impossible contact, said once for every path: (values, the field a refusal must name).
CASES = {
    "known_counts_seven": ({"kind": "known", "person": True, "people_count": 7}, "people_count"),
    "known_without_person": ({"kind": "known", "person": False}, "person"),
    "anonymous_with_person": ({"kind": "anonymous", "person": True, "people_count": 2}, "person"),
    "refusal_with_person": ({"kind": "refusal", "person": True}, "person"),
    "no_people": ({"kind": "anonymous", "people_count": 0}, "people_count"),
    "too_many_people": ({"kind": "anonymous", "people_count": contract.MAX_PEOPLE + 1},
                        "people_count"),
    "material_over_ceiling": ({"kind": "anonymous", "material": contract.MAX_QUANTITY + 1},
                              "materials"),
    "negative_material": ({"kind": "anonymous", "material": -1}, "materials"),
    "unknown_kind": ({"kind": "alien"}, "kind"),
    "unknown_sex": ({"kind": "anonymous", "sex": "z"}, "sex"),
}
# The French words by which each refusal names its field.
NAMES = {"kind": "type de contact", "person": "code personne", "people_count": "personne",
         "materials": "matériel", "sex": "sexe"}


def _team(app):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one()
        return user.teams[0].code


def _start(app, client, started_at=None):
    if started_at is None:
        assert client.post("/maraude",
                           data={"team": _team(app), "staff_count": "2"}).status_code == 302
        return
    body = {"id": str(uuid.uuid4()), "team": _team(app), "started_at": started_at, "staff_count": 2}
    response = _api(app).post("/api/v1/shifts", json=body, headers=_auth(app))
    assert response.status_code == 201, response.json


def _api(app):
    """A client of its own for the API: a bearer token, no session (hence no CSRF token)."""
    return app.test_client()


def _auth(app):
    return {"Authorization": "Bearer " + _token(app, WORKER)}


def _form(case):
    values = {"kind": case["kind"], "people_count": str(case.get("people_count", 1))}
    if case.get("person"):
        values["digest"] = DIGEST
    if "material" in case:
        values["material-kit_base"] = str(case["material"])
    if "sex" in case:
        values["sex"] = case["sex"]
    return values


def _state(app):
    """Everything a refused write must leave as it was."""
    with app.app_context():
        rows = db.session.execute(
            db.select(Contact.id, Contact.kind, Contact.person_id, Contact.people_count,
                      Contact.sex).order_by(Contact.id)).all()
        count = lambda model: db.session.execute(
            db.select(db.func.count()).select_from(model)).scalar()
        return rows, count(Person), count(AuditEvent), count(Referral), db.session.execute(
            db.text("SELECT contact_id, material_id, quantity FROM contact_materials ORDER BY 1, "
                    "2")).all()


def _named(field, message):
    assert NAMES[field] in message.lower(), (field, message)


# --- the paths ------------------------------------------------------------------------------------

def _page_errors(response):
    """{field: message} of the error list of a page (new contact: "name : message", edit:
    data-field)."""
    text = response.get_data(as_text=True)
    found = dict(re.findall(r'<li data-field="(\w+)">[^<:]*: ([^<]*)</li>', text))
    found.update(re.findall(r"<li>(\w+) : ([^<]*)</li>", text))
    return {k: unescape(v) for k, v in found.items()}


def via_form(app, client, case):
    _start(app, client)
    response = client.post("/maraude/contacts", data=_form(case))
    return response.status_code, _page_errors(response)


def via_api(app, client, case):
    _start(app, client)
    with app.app_context():
        shift_id = db.session.execute(db.select(Shift.id)).scalar_one()
    body = {"id": str(uuid.uuid4()), "shift_id": shift_id, "kind": case["kind"],
            "people_count": case.get("people_count", 1)}
    if case.get("person"):
        body["person"] = {"digest": DIGEST, "weak": False}
    if "material" in case:
        body["materials"] = {"kit_base": case["material"]}
    if "sex" in case:
        body["sex"] = case["sex"]
    response = _api(app).post("/api/v1/encounters", json=body, headers=_auth(app))
    return response.status_code, response.json["errors"]


def via_import(app, _client, case):
    row = {"date": (local_today() - dt.timedelta(days=3)).isoformat(), "time": "22:00",
           "team": _team(app),
           "kind": case["kind"], "people_count": str(case.get("people_count", 1)),
           "digest": DIGEST if case.get("person") else "",
           "materials": f"kit_base:{case['material']}" if "material" in case else "",
           "sex": case.get("sex", "")}
    with app.app_context():
        organisation = db.session.execute(
            db.select(Organisation).filter_by(code="aurore")).scalar_one()
        user = db.session.execute(db.select(User).filter_by(email=SUPERVISOR)).scalar_one()
        report = import_contacts([(2, row)], organisation, user)
        db.session.commit()
    errors = {("person" if e.column == "digest" else e.column): e.message for e in report.errors}
    return (422 if report.errors else 200), errors


def _contact_to_change(app, client, case):
    """A stored contact of the kind the case starts from: anonymous when it turns known, else
    known."""
    _start(app, client)
    starts_anonymous = case["kind"] == "known" and not case.get("person") or "material" in case or (
        "people_count" in case and case["kind"] == "anonymous")
    values = ({"kind": "anonymous", "people_count": "2"} if starts_anonymous
              else {"kind": "known", "digest": "d" * 64})
    assert client.post("/maraude/contacts", data=values).status_code == 302
    with app.app_context():
        return db.session.execute(db.select(Contact.id)).scalar_one()


def via_edit(app, client, case):
    contact_id = _contact_to_change(app, client, case)
    before = _state(app)
    response = client.post(f"/maraude/contacts/{contact_id}", data=_form(case))
    assert _state(app) == before
    return response.status_code, _page_errors(response)


def _correction(case):
    """The one-field correction that asks for the case's contact, or None when a correction
    cannot say it (a correction to anonymous or refusal drops the person instead: see the test
    below)."""
    if case.get("person") and case["kind"] != "known":
        return None
    if "material" in case:
        return "material", str(case["material"])
    if "sex" in case:
        return "sex", case["sex"]
    if "people_count" in case:
        return "people_count", str(case["people_count"])
    return "kind", case["kind"]


def via_correction(app, client, case):
    contact_id = _contact_to_change(app, client, case)
    field, value = _correction(case)
    if field == "material":
        with app.app_context():
            material_id = db.session.execute(
                db.select(RefItem.id).filter_by(kind="material", code="kit_base")).scalar_one()
        field = f"material-{material_id}"
    supervisor = app.test_client()
    do_login(supervisor, SUPERVISOR)
    before = _state(app)
    response = supervisor.post(f"/revue/contact/{contact_id}/corriger",
                               data={"field": field, "value": value, "reason": "vérification"})
    assert _state(app) == before
    text = unescape(response.get_data(as_text=True))
    messages = re.findall(r'<div class="flash flash-error no-print" '
                          r'role="alert"><ul><li>([^<]*)</li>', text)
    return response.status_code, {"value": messages[0]} if messages else {}


PATHS = {"form": via_form, "api": via_api, "import": via_import, "edit": via_edit,
         "correction": via_correction}


@pytest.mark.parametrize("case_name", CASES)
@pytest.mark.parametrize("path", PATHS)
def test_every_path_refuses_every_impossible_contact_naming_the_field(app, client, login, path,
                                                                      case_name):
    case, field = CASES[case_name]
    if path == "correction" and _correction(case) is None:
        pytest.skip("a correction to anonymous or refusal drops the person (tested below)")
    login(WORKER)
    before = _state(app)
    status, errors = PATHS[path](app, client, case)
    assert status == 422, (path, case_name, status, errors)
    if path == "correction":  # one field at a time: the refusal comes back on the corrected value
        assert set(errors) == {"value"}, errors
        _named(field, errors["value"])
    else:
        assert field in errors, (path, case_name, errors)
        _named(field, errors[field])
    if path not in ("edit", "correction"):
        assert _state(app) == before, (path, case_name)


def test_the_database_refuses_an_impossible_contact_written_around_the_services(app):
    """The CHECK constraints of migration 0002 hold bulk writes too (a known contact has one
    person counted 1, an anonymous passage or a refusal has none, 1..500 people)."""
    with app.app_context():
        person = Person(code="e" * 64)
        db.session.add(person)
        user = db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one()
        team = user.teams[0]
        now = dt.datetime(2026, 11, 20, 21)
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=user.id,
                      started_at=now, shift_on=now.date(), status="open")
        db.session.add(shift)
        db.session.commit()
        base = {"shift_id": shift.id, "organisation_id": team.organisation_id, "team_id": team.id,
                "occurred_at": now, "occurred_on": now.date(), "created_by_id": user.id,
                "is_first_contact": False, "created_at": now, "updated_at": now}
        bad = [{"kind": "known", "person_id": None, "people_count": 1},
               {"kind": "known", "person_id": person.id, "people_count": 7},
               {"kind": "anonymous", "person_id": person.id, "people_count": 1},
               {"kind": "refusal", "person_id": person.id, "people_count": 1},
               {"kind": "anonymous", "person_id": None, "people_count": 0},
               {"kind": "anonymous", "person_id": None, "people_count": contract.MAX_PEOPLE + 1}]
        for values in bad:
            with pytest.raises(IntegrityError):
                db.session.execute(db.insert(Contact),
                                   [{"id": str(uuid.uuid4()), **base, **values}])
                db.session.flush()
            db.session.rollback()
        good = [{"kind": "known", "person_id": person.id, "people_count": 1},
                {"kind": "anonymous", "person_id": None, "people_count": contract.MAX_PEOPLE}]
        db.session.execute(db.insert(Contact),
                           [{"id": str(uuid.uuid4()), **base, **v} for v in good])
        db.session.commit()


# --- corrections: known -> anonymous drops the person, and the figures follow ---------------------

def test_a_correction_to_anonymous_drops_the_person_and_the_distinct_persons_follow(
        app, client, login):
    login(WORKER)
    _start(app, client)
    assert client.post("/maraude/contacts",
                       data={"kind": "known", "digest": DIGEST, "referral-assore": "on"}
                       ).status_code == 302
    with app.app_context():
        contact = db.session.execute(db.select(Contact)).scalar_one()
        contact_id, month = contact.id, contact.occurred_on.replace(day=1)
        window = (month, month)
        filters = {"include_provisional": True}
        assert measures.Evaluator(filters).value("distinct_persons", filters, window) == 1
        db.session.commit()
    supervisor = app.test_client()
    do_login(supervisor, SUPERVISOR)
    response = supervisor.post(f"/revue/contact/{contact_id}/corriger",
                               data={"field": "kind", "value": "anonymous",
                                     "reason": "la personne a refusé son code"})
    assert response.status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        assert (contact.kind, contact.person_id,
                contact.is_first_contact) == ("anonymous", None, False)
        assert [r.person_id for r in contact.referrals] == [None]
        fields = {e.field for e in db.session.execute(
            db.select(AuditEvent).filter_by(action="contact.correct"))
                  .scalars()}
        assert fields == {"kind", "person"}
        assert measures.Evaluator(filters).value("distinct_persons", filters, window) == 0
        assert measures.Evaluator(filters).value("contacts", filters, window) == 1
        # no longer "known: last seen on ..."
        person = db.session.execute(db.select(Person)).scalar_one()
        assert (person.first_seen_on, person.last_seen_on,
                person.last_seen_team_id) == (None, None, None)


def test_an_edit_to_refusal_drops_the_person_whose_next_contact_becomes_the_first(
        app, client, login):
    login(WORKER)
    _start(app, client, "2026-11-30T21:00")
    for clock in ("22:00", "23:00"):  # the same person twice: the first is first contact
        assert client.post("/maraude/contacts",
                           data={"kind": "known", "digest": DIGEST, "occurred_at": clock}
                           ).status_code == 302
    with app.app_context():
        first, second = db.session.execute(
            db.select(Contact.id).order_by(Contact.occurred_at)).scalars()
        assert db.session.get(Contact, first).is_first_contact
    assert client.post(f"/maraude/contacts/{first}", data={"kind": "refusal"}).status_code == 302
    with app.app_context():
        contact, other = db.session.get(Contact, first), db.session.get(Contact, second)
        assert (contact.kind, contact.person_id, contact.people_count,
                contact.is_first_contact) == ("refusal", None, 1, False)
        assert other.is_first_contact and other.person.first_seen_on == other.occurred_on


# --- one home for the limits ----------------------------------------------------------------------

def test_the_openapi_document_takes_the_contract_from_the_code(app):
    with app.test_request_context():
        encounter = document()["components"]["schemas"]["EncounterIn"]
    props = encounter["properties"]
    assert (props["people_count"]["minimum"], props["people_count"]["maximum"]) == (
        contract.MIN_PEOPLE, contract.MAX_PEOPLE)
    assert props["materials"]["additionalProperties"]["maximum"] == contract.MAX_QUANTITY
    assert props["kind"]["enum"] == list(contract.KINDS)
    assert "Europe/Paris" in props["occurred_at"]["description"]
    import jsonschema_rs
    validate = lambda body: jsonschema_rs.validator_for(encounter).is_valid(body)
    assert validate(encounter["example"])
    assert not validate({**encounter["example"], "people_count": 7})
    assert not validate({**encounter["example"], "kind": "anonymous"})  # with a person
    anonymous = {k: v for k, v in encounter["example"].items() if k != "person"}
    assert validate({**anonymous, "kind": "anonymous", "people_count": 4})


LIMITS = re.compile(rf"\b({contract.MAX_PEOPLE}|{contract.MAX_QUANTITY})\b")
CONTACT_PATHS = ["outreach/contacts", "outreach/imports/checks.py", "outreach/review",
                 "outreach/api/write.py",
                 "outreach/api/write_doc.py", "templates/contacts", "templates/review"]


def test_the_contact_limits_are_written_once():
    """No copy of the people or material ceilings on any contact path: they read the contract
    (templates too)."""
    files = [f for p in CONTACT_PATHS
             for f in ([ROOT / p] if (ROOT / p).is_file() else (ROOT / p).rglob("*.*"))]
    copies = [(str(f.relative_to(ROOT)), line.strip()) for f in files
              if f.suffix in (".py", ".html")
              for line in f.read_text().splitlines() if LIMITS.search(line)]
    assert copies == []
    readme = (ROOT / "README.md").read_text()  # the documentation says the same limits
    assert f"`people_count` from {contract.MIN_PEOPLE} to {contract.MAX_PEOPLE}" in readme
    assert f"{contract.MIN_QUANTITY} to {contract.MAX_QUANTITY:,} of each item" in readme


# --- a time without a zone is Paris time ----------------------------------------------------------

# (shift start and contact time as sent without a zone, the contact's UTC time, its Paris date)
TIMES = [
    # month end
    ("2026-11-30T21:00", "2026-11-30T23:30", dt.datetime(2026, 11, 30, 22, 30),
     dt.date(2026, 11, 30)),
    # summer time
    ("2026-10-24T22:00", "2026-10-25T01:30", dt.datetime(2026, 10, 24, 23, 30),
     dt.date(2026, 10, 25)),
    # winter time
    ("2026-10-24T22:00", "2026-10-25T04:00", dt.datetime(2026, 10, 25, 3, 0),
     dt.date(2026, 10, 25)),
    # before spring
    ("2026-03-28T22:00", "2026-03-29T01:30", dt.datetime(2026, 3, 29, 0, 30), dt.date(2026, 3, 29)),
    # after spring
    ("2026-03-28T22:00", "2026-03-29T03:30", dt.datetime(2026, 3, 29, 1, 30), dt.date(2026, 3, 29)),
]


def _stored(app):
    with app.app_context():
        contact = db.session.execute(
            db.select(Contact).order_by(Contact.created_at.desc())).scalars().first()
        return contact.occurred_at, contact.occurred_on


@pytest.mark.parametrize("started, local, utc, day", TIMES)
def test_the_api_reads_a_time_without_zone_as_paris_time(app, client, started, local, utc, day):
    _start(app, client, started)
    auth = _auth(app)
    with app.app_context():
        shift = db.session.execute(db.select(Shift)).scalar_one()
        assert shift.started_at == contract.to_utc(dt.datetime.fromisoformat(started))
        shift_id = shift.id
    for sent in (local, utc.isoformat() + "Z"):  # the same instant without and with a zone
        body = {"id": str(uuid.uuid4()), "shift_id": shift_id, "kind": "anonymous",
                "occurred_at": sent}
        response = client.post("/api/v1/encounters", json=body, headers=auth)
        assert response.status_code == 201, response.json
        assert response.json["occurred_at"] == utc.isoformat() + "Z"
        assert _stored(app) == (utc, day)
    bad = {"id": str(uuid.uuid4()), "shift_id": shift_id, "kind": "anonymous",
           "occurred_at": "2026-11-31T25:00"}
    response = client.post("/api/v1/encounters", json=bad, headers=auth)
    assert response.status_code == 422 and set(response.json["errors"]) == {"occurred_at"}


@pytest.mark.parametrize("started, local, utc, day", TIMES)
def test_the_form_and_the_edit_read_their_hh_mm_as_paris_time(app, client, login, started, local,
                                                              utc, day):
    login(WORKER)
    _start(app, client, started)
    clock = local[11:16]
    assert client.post("/maraude/contacts",
                       data={"kind": "anonymous", "occurred_at": clock}).status_code == 302
    assert _stored(app) == (utc, day)
    with app.app_context():
        contact_id = db.session.execute(db.select(Contact.id)).scalar_one()
    assert client.post(f"/maraude/contacts/{contact_id}",
                       data={"kind": "anonymous", "occurred_at": "23:59"}
                       ).status_code == 302
    assert _stored(app) != (utc, day)
    # the edit (and a supervisor's edit of a closed shift, the correction path for a time) reads it
    # the same way
    assert client.post(f"/maraude/contacts/{contact_id}",
                       data={"kind": "anonymous", "occurred_at": clock}
                       ).status_code == 302
    assert _stored(app) == (utc, day)


@pytest.mark.parametrize("started, local, utc, day", TIMES)
def test_the_import_reads_its_date_and_time_as_paris_time(app, started, local, utc, day):
    row = {"date": local[:10], "time": local[11:16], "team": "aurore_nord", "kind": "anonymous"}
    with app.app_context():
        organisation = db.session.execute(
            db.select(Organisation).filter_by(code="aurore")).scalar_one()
        user = db.session.execute(db.select(User).filter_by(email=SUPERVISOR)).scalar_one()
        report = import_contacts([(2, row)], organisation, user)
        db.session.commit()
        assert report.errors == [] and report.created == 1
        shift = db.session.execute(db.select(Shift)).scalar_one()
        assert (shift.started_at, shift.shift_on) == (utc, day)
    assert _stored(app) == (utc, day)


@pytest.mark.parametrize("started, local, utc, day", TIMES)
def test_a_correction_reads_a_time_without_zone_as_paris_time(app, client, started, local, utc,
                                                              day):
    """A supervisor corrects the time of a closed shift's contact: HH:MM or a date and time,
    Paris time."""
    _start(app, client, started)
    api, auth = _api(app), _auth(app)
    start = contract.to_utc(dt.datetime.fromisoformat(started))
    with app.app_context():
        shift_id = db.session.execute(db.select(Shift.id)).scalar_one()
    body = {"id": str(uuid.uuid4()), "shift_id": shift_id, "kind": "anonymous",
            "occurred_at": f"{start.isoformat()}Z"}
    assert api.post("/api/v1/encounters", json=body, headers=auth).status_code == 201
    ended = {"ended_at": f"{(start + dt.timedelta(hours=8)).isoformat()}Z"}
    assert api.post(f"/api/v1/shifts/{shift_id}/close", json=ended, headers=auth).status_code == 200
    supervisor = app.test_client()
    do_login(supervisor, SUPERVISOR)

    def correct(value):
        return supervisor.post(f"/revue/contact/{body['id']}/corriger",
                               data={"field": "occurred_at", "value": value,
                                     "reason": "heure notée à tort"})

    for value, stored in ((local[11:16], (utc, day)),
                          (f"{start.isoformat()}Z", (start, _stored(app)[1])), (local, (utc, day))):
        assert correct(value).status_code == 302, value
        assert _stored(app) == stored, value
    # before the shift
    assert correct((start - dt.timedelta(hours=3)).isoformat()).status_code == 422
    assert correct("demain").status_code == 422
    assert _stored(app) == (utc, day)


# --- existing data: migration 0002 and the bulk writers -------------------------------------------

@pytest.fixture(params=BACKENDS)
def at_0001(request, tmp_path):
    """An app on a fresh database at 0001 holding the 0.1.0 demo (tests/data/demo_0001.json,
    written through tables reflected at 0001: today's models follow the head)."""
    from flask_migrate import upgrade
    from test_migrations_upgrade import _fixture, load_fixture
    url, drop = (f"sqlite:///{tmp_path}/old.db",
                 lambda: None) if request.param == "sqlite" else _postgres_database()
    old = _make_app(url, str(tmp_path))
    with old.app_context():
        upgrade(revision="0001")
        load_fixture(db.engine, _fixture())
    yield old
    with old.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def test_migration_0002_repairs_what_old_corrections_left_and_keeps_every_detail(at_0001):
    """Contacts a correction made impossible are repaired (the person dropped, a known contact
    counted once) and their months marked for the roll-ups; on SQLite the table rebuild keeps the
    contact's material and referrals (dropping the old table with foreign keys on would have
    cascaded into them)."""
    from flask_migrate import downgrade, upgrade

    with at_0001.app_context():
        known = db.session.execute(
            db.text("SELECT id FROM contacts WHERE kind = 'known' ORDER BY id LIMIT 2")
            ).scalars().all()
        db.session.execute(db.text("UPDATE contacts SET kind = 'anonymous' WHERE id = :id"),
                           {"id": known[0]})
        db.session.execute(db.text("UPDATE contacts SET people_count = 7 WHERE id = :id"),
                           {"id": known[1]})
        db.session.execute(db.text("DELETE FROM rollup_dirty"))
        db.session.commit()
        details = _details()
        upgrade()
        db.session.expire_all()
        assert db.session.get(Contact, known[0]).person_id is None
        assert db.session.get(Contact, known[1]).people_count == 1
        assert _details() == details
        assert db.session.execute(db.select(db.func.count()).select_from(RollupDirty)).scalar() >= 1
        with pytest.raises(IntegrityError):
            db.session.execute(
                db.update(Contact).where(Contact.id == known[1]).values(people_count=7))
        db.session.rollback()
        _details()
        downgrade(revision="0001")
        assert _details() == details


def _details():
    """Rows per contact table; the reading transaction ends (PostgreSQL: its locks would block
    the migration)."""
    count = lambda table: db.session.execute(db.text(f"SELECT count(*) FROM {table}")).scalar()
    found = {table: count(table)
             for table in ("contacts", "contact_materials", "orientations", "referrals",
                           "contact_products", "contact_needs")}
    db.session.commit()
    return found


def test_the_synthetic_history_and_the_demo_satisfy_the_constraints(app):
    with app.app_context():
        build_history(500, seed=7)
        db.session.commit()
        rows = db.session.execute(
            db.select(Contact.kind, Contact.person_id, Contact.people_count)).all()
    assert len(rows) >= 500
    assert all((p is not None and n == 1) if k == "known" else p is None for k, p, n in rows)
