"""Shared builders for the maintenance tests: shifts, contacts, persons written through the ORM."""
from datetime import date, datetime, time

from outreach.contract import local_today
from outreach.extensions import db
from outreach.maintenance.keys import pseudonym_code
from outreach.models import (
    Contact,
    ContactMaterial,
    Organisation,
    Orientation,
    Person,
    Referral,
    RefItem,
    Shift,
    Team,
    User,
)


def _one(model, **keys):
    return db.session.execute(db.select(model).filter_by(**keys)).scalar_one()


def person_for(digest, key, day):
    code = pseudonym_code(digest, key)
    person = db.session.execute(db.select(Person).filter_by(code=code)).scalar_one_or_none()
    if person is None:
        person = Person(code=code, first_seen_on=day)
        db.session.add(person)
    person.last_seen_on = max(filter(None, [person.last_seen_on, day]))
    return person


def log_contact(day, digest=None, key="test-pseudonym-key", org="aurore", team="aurore_nord",
                worker="worker@aurore.demo", referral=False):
    """One contact on ``day`` (with a kit base, an orientation, optionally an ASSORE referral)."""
    organisation, team_ = _one(Organisation, code=org), _one(Team, code=team)
    user = _one(User, email=worker)
    started = datetime.combine(day, time(20, 0))
    shift = Shift(organisation=organisation, team=team_, opened_by=user, started_at=started,
                  shift_on=day)
    person = person_for(digest, key, day) if digest else None
    contact = Contact(shift=shift, organisation_id=organisation.id, team=team_, occurred_at=started,
                      occurred_on=day, kind="known" if person else "anonymous", person=person,
                      created_by=user)
    contact.materials.append(
        ContactMaterial(material=_one(RefItem, kind="material", code="kit_base"), quantity=2))
    contact.orientations.append(
        Orientation(destination=_one(RefItem, kind="destination", code="csapa")))
    if referral:
        contact.referrals.append(
            Referral(organisation_id=organisation.id, person=person, proposed_on=day,
                     programme=_one(RefItem, kind="programme", code="assore")))
    db.session.add_all([shift, contact])
    db.session.flush()
    return contact


def seed_history(key="test-pseudonym-key"):
    """Old (2019) and recent contacts, persons shared across both, then commit."""
    today = local_today()
    old = date(2019, 3, 10)
    for i in range(4):
        log_contact(old, digest=f"old-{i}", key=key, referral=i == 0)
    log_contact(old, digest="both", key=key)
    log_contact(old)
    log_contact(today, digest="both", key=key)
    log_contact(today, digest="new-1", key=key, org="gaia", team="gaia_mobile",
                worker="worker@gaia.demo")
    db.session.commit()
