"""Retention: delete person-level rows older than RETENTION_MONTHS.

Roll-up tables (``rollup_*``) are derived aggregates without person data beyond an
integer id that no longer resolves once the person is deleted: they are caught up first
(pending marks of old months are applied while their raw rows still exist), then never
touched, so indicators keep their values. The purge's audit event records the cut-off:
later catch-ups and full rebuilds leave the months before it as they are. Shifts (no
person data) are kept too.
"""
from datetime import date

from sqlalchemy import and_, delete, exists, func, or_, select

from .. import audit, contract
from ..extensions import db
from ..models import (
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    ReferralEvent,
    contact_needs,
    contact_products,
)


def cutoff_for(months, today=None):
    """The first day that is kept: ``months`` calendar months before ``today``."""
    today = today or contract.local_today()
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, 28))


def _recent_referral(cutoff):
    steps = [Referral.proposed_on, Referral.accepted_on, Referral.refused_on,
             Referral.admitted_on, Referral.exited_on]
    return exists().where(Referral.contact_id == Contact.id, or_(*[s >= cutoff for s in steps]))


def _old_contacts(cutoff):
    """Contacts before the cutoff whose referrals have no step on or after it."""
    return select(Contact.id).where(Contact.occurred_on < cutoff, ~_recent_referral(cutoff))


def _old_persons(cutoff):
    """Persons not seen since the cutoff and no longer referenced by any kept row."""
    return select(Person.id).where(
        or_(Person.last_seen_on.is_(None), Person.last_seen_on < cutoff),
        ~exists().where(Contact.person_id == Person.id),
        ~exists().where(Referral.person_id == Person.id))


def _count(query):
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def plan_purge(cutoff):
    """What a purge would remove: {table: rows}. Persons are counted as after the contacts go."""
    contacts = _old_contacts(cutoff)
    orphan_persons = select(Person.id).where(
        or_(Person.last_seen_on.is_(None), Person.last_seen_on < cutoff),
        ~exists().where(and_(Contact.person_id == Person.id, Contact.id.not_in(contacts))),
        ~exists().where(and_(Referral.person_id == Person.id,
                             Referral.contact_id.not_in(contacts))))
    return {
        "contacts": _count(contacts),
        "referrals": _count(select(Referral.id).where(Referral.contact_id.in_(contacts))),
        "persons": _count(orphan_persons),
    }


def _delete_children(ids):
    referral_ids = select(Referral.id).where(Referral.contact_id.in_(ids))
    db.session.execute(delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids)))
    db.session.execute(delete(Referral).where(Referral.contact_id.in_(ids)))
    db.session.execute(delete(Orientation).where(Orientation.contact_id.in_(ids)))
    db.session.execute(delete(ContactMaterial).where(ContactMaterial.contact_id.in_(ids)))
    db.session.execute(delete(contact_products).where(contact_products.c.contact_id.in_(ids)))
    db.session.execute(delete(contact_needs).where(contact_needs.c.contact_id.in_(ids)))


def purge_person_data(cutoff, actor=None):
    """Delete old person-level rows with Core statements (no roll-up listener); does not commit."""
    from ..indicators.rollups import catch_up, refresh_others, suspended
    catch_up(db.session)
    counts = plan_purge(cutoff)
    ids = [row[0] for row in db.session.execute(_old_contacts(cutoff))]
    with suspended():
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            _delete_children(chunk)
            db.session.execute(delete(Contact).where(Contact.id.in_(chunk)))
        db.session.execute(delete(Person).where(Person.id.in_(_old_persons(cutoff))))
    refresh_others(db.session.connection(), None)  # the report card's stays: from what is left
    audit.record("purge", actor=actor, details={"cutoff": cutoff.isoformat(), **counts})
    return counts
