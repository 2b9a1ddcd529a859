"""Supervisor review: summary equals SQL counts, anomalies, validation lock, audited corrections."""
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.models import (
    AuditEvent,
    Contact,
    ContactMaterial,
    Person,
    Referral,
    RefItem,
    Shift,
    ShiftStock,
    Team,
    User,
)
from outreach.review import services

START = datetime(2026, 11, 20, 20, 0)


def _user(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _material():
    return db.session.execute(db.select(RefItem).filter_by(kind="material")).scalars().first()


def make_shift(status="closed", team_code="aurore_nord", started=START,
               ended=START + timedelta(hours=4)):
    worker = _user("worker@aurore.demo")
    team = db.session.execute(db.select(Team).filter_by(code=team_code)).scalar_one()
    shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                  started_at=started, ended_at=ended, shift_on=started.date(), status=status)
    db.session.add(shift)
    db.session.flush()
    return shift


def make_contact(shift, minutes=10, kind="known", person=None, people=1, first=False,
                 materials=None):
    """A contact as the contract allows it: a known one gets a person of its own when none is
    given."""
    at = shift.started_at + timedelta(minutes=minutes)
    if kind == "known" and person is None:
        person = make_person(uuid.uuid4().hex * 2)
    contact = Contact(shift_id=shift.id, organisation_id=shift.organisation_id,
                      team_id=shift.team_id,
                      occurred_at=at, occurred_on=at.date(), kind=kind,
                      person_id=person and person.id,
                      people_count=people, is_first_contact=first, created_by_id=shift.opened_by_id)
    contact.materials = [ContactMaterial(material_id=mid, quantity=q)
                         for mid, q in (materials or {}).items()]
    db.session.add(contact)
    db.session.flush()
    return contact


def make_person(code):
    person = Person(code=code * 64 if len(code) == 1 else code, first_seen_on=date(2026, 11, 1))
    db.session.add(person)
    db.session.flush()
    return person


def _scalar(sql, sid):
    return db.session.execute(text(sql), {"sid": sid}).scalar()


@pytest.fixture
def rctx(app):
    with app.test_request_context():
        yield


def test_summary_numbers_equal_sql_counts(rctx):
    shift = make_shift()
    mat = _material()
    a, b = make_person("a"), make_person("b")
    make_contact(shift, 10, person=a, first=True, materials={mat.id: 3})
    make_contact(shift, 60, person=a)
    make_contact(shift, 90, person=b)
    make_contact(shift, 100, kind="anonymous", people=4)
    make_contact(shift, 110, kind="refusal")
    db.session.add(ShiftStock(shift_id=shift.id, material_id=mat.id, taken_out=10, brought_back=7))
    db.session.commit()
    s = services.summary(shift)
    assert {k: n for k, n, _p in s["by_kind"]} == {
        k: n for k, n in db.session.execute(text(
            "select kind, count(*) from contacts where shift_id = :sid group by kind"),
                                            {"sid": shift.id})}
    assert s["persons"] == _scalar("select count(distinct person_id) from contacts where shift_id "
                                   "= :sid", shift.id) == 2
    assert s["new_persons"] == 1
    assert s["anonymous"] == _scalar(
        "select sum(people_count) from contacts where shift_id = :sid and kind = 'anonymous'",
        shift.id) == 4
    assert [tuple(r[1:]) for r in s["materials"]] == [(3, 10, 7)]


def test_anomalies_flagged(rctx):
    now = datetime(2026, 11, 21, 20, 0)
    long_open = make_shift(status="open", started=now - timedelta(hours=15), ended=None)
    shift = make_shift()
    mat = _material()
    p = make_person("c")
    make_contact(shift, 10, person=p, materials={mat.id: 5})
    make_contact(shift, 20, person=p)
    make_contact(shift, 600)  # after ended_at
    c = make_contact(shift, 30)
    db.session.add(Referral(contact_id=c.id, organisation_id=shift.organisation_id,
                            programme_id=db.session.execute(db.select(RefItem.id).filter_by(
                                kind="programme")).scalars().first(),
                            proposed_on=date(2026, 11, 1), updated_at=now - timedelta(days=8)))
    clean = make_shift()
    make_contact(clean, 10)
    db.session.commit()
    flags = services.anomalies([long_open.id, shift.id, clean.id], now=now)
    assert len(flags[long_open.id]) == 1
    text_ = " ".join(flags[shift.id])
    assert ("hors des horaires" in text_ and "doublon" in text_ and "Matériel" in text_
            and "1 orientation(s) hébergement sans nouvelle depuis 7 jours" in text_)
    assert clean.id not in flags


def test_validation_locks_workers_and_corrections_are_audited(rctx):
    shift = make_shift()
    contact = make_contact(shift, 10, kind="anonymous", people=2)
    sup, worker = _user("supervisor@aurore.demo"), _user("worker@aurore.demo")
    services.ensure_editable(shift, worker)
    services.validate_shift(shift, sup)
    db.session.commit()
    assert shift.status == "validated" and shift.validated_by_id == sup.id and shift.validated_at
    with pytest.raises(Forbidden):
        services.ensure_editable(shift, worker)
    with pytest.raises(ValidationError):
        services.correct_contact(contact, sup, "people_count", "3", "  ")
    services.correct_contact(contact, sup, "people_count", "3", "compté deux fois")
    services.correct_contact(contact, sup, f"material-{_material().id}", "2", "oubli")
    db.session.commit()
    assert contact.people_count == 3 and contact.materials[0].quantity == 2
    events = services.trail(shift)
    assert next((e.field, e.before, e.after, e.reason) for e in events
                if e.action == "contact.correct") == (
        "people_count", "2", "3", "compté deux fois")
    with pytest.raises(ValidationError):
        services.unvalidate_shift(shift, sup, "")
    services.unvalidate_shift(shift, sup, "erreur de secteur")
    db.session.commit()
    assert shift.status == "closed"


def test_pages_scope_validate_and_trail(app, client, login):
    with app.app_context():
        shift = make_shift()
        make_contact(shift, 10, kind="anonymous", people=2)
        make_contact(shift, 600)
        other = make_shift(team_code="gaia_mobile")
        db.session.commit()
        sid, other_id = shift.id, other.id
        cid = db.session.execute(
            db.select(Contact.id).filter_by(shift_id=sid, people_count=2)).scalar_one()
    login("supervisor@aurore.demo")
    board = client.get("/revue/")
    assert board.status_code == 200 and "hors des horaires" in board.get_data(as_text=True)
    assert client.get(f"/revue/maraude/{other_id}").status_code == 404
    assert client.post(f"/revue/contact/{cid}/corriger",
                       data={"field": "people_count", "value": "1",
                             "reason": ""}).status_code == 422
    assert client.post(f"/revue/contact/{cid}/corriger",
                       data={"field": "people_count", "value": "1",
                             "reason": "doublon"}).status_code == 302
    assert client.post(f"/revue/maraude/{sid}/valider").status_code == 302
    page = client.get(f"/revue/maraude/{sid}").get_data(as_text=True)
    assert "validée" in page and "Maraude validée" in page and "doublon" in page
    assert client.post(f"/revue/maraude/{sid}/devalider", data={"reason": ""}).status_code == 422
    with app.app_context():
        assert db.session.get(Shift, sid).status == "validated"
        assert db.session.execute(db.select(AuditEvent).filter_by(
            action="contact.correct")).scalar_one().reason == "doublon"
    with app.app_context():
        team_id = db.session.get(Shift, sid).team_id
    assert client.get(f"/revue/semaine/{team_id}?week=2026-11-16").status_code == 200


def test_worker_cannot_edit_a_validated_shift(app, client, login):
    from outreach.contacts import services as contacts
    with app.test_request_context():
        shift = make_shift()
        contact = make_contact(shift, 10)
        services.validate_shift(shift, _user("supervisor@aurore.demo"))
        db.session.commit()
        worker = _user("worker@aurore.demo")
        with pytest.raises(Forbidden):
            contacts.record_contact(shift, worker, {"kind": "anonymous", "people_count": 1})
        with pytest.raises(Forbidden):
            services.correct_contact(contact, worker, "people_count", "2", "motif")
        sid, cid = shift.id, contact.id
    login("worker@aurore.demo")
    assert client.post(f"/revue/contact/{cid}/corriger",
                       data={"field": "people_count", "value": "2",
                             "reason": "x"}).status_code == 403
    assert client.post(f"/revue/maraude/{sid}/devalider", data={"reason": "x"}).status_code == 403
