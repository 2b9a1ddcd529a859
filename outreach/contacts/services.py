"""Contacts inside an open shift. Functions never commit."""
import datetime as dt
import uuid

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, contract
from ..access import can_log_on, team_scope
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..models import (
    Contact,
    ContactMaterial,
    Orientation,
    Referral,
    ReferralEvent,
    Shift,
    utcnow,
)
from ..pseudonyms import services as pseudonyms
from ..reference import services as reference
from ..shifts.services import local_date, lock_shift, to_utc
from . import rows

DUPLICATE_ID = _l("Identifiant de contact déjà utilisé.")  # the API answers a replay itself (200)


def _refs(kind, ids, field):
    ids = [i for i in (ids or [])]
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationError({field: _("Valeur inconnue.")})
    found = reference.by_ids(kind, ids) if ids else {}
    if len(found) != len(set(ids)):
        raise ValidationError({field: _("Valeur inconnue.")})
    return sorted(found.values(), key=lambda item: (item.position, item.id))


def _ref(kind, item_id, field):
    return _refs(kind, [item_id], field)[0] if item_id is not None else None


def _check_contract(data, has_person):
    """The contact contract on the posted kind, person and people count; returns (kind,
    people_count)."""
    kind = contract.check_kind(data.get("kind"))
    return kind, contract.check_contact(kind, has_person, data.get("people_count"))


def _check_shift(shift, user):
    if not can_log_on(shift, user):
        raise ValidationError({"shift_id": _("Maraude inconnue.")})
    if not _locked_here(shift):
        lock_shift(shift)  # a close or a validation committed meanwhile must be seen
    if shift.is_locked:
        raise Forbidden(_("La maraude est close et validée : ce contact ne peut plus y entrer. "
                          "Il reste sur l'appareil ; montrez-le à votre coordinateur·rice."))


LOCKED = "contacts.locked_shift"  # session.info: (shift id, transaction) read under its lock


def shift_for_save(shift_id, contact_id):
    """(the shift ``shift_id`` held until the transaction ends and read under that hold, or None;
    whether the contact ``contact_id`` is already stored), in one statement: the API's save asks
    both first (a replay is answered with the stored contact), and ``record_contact`` then takes
    no second lock. PostgreSQL: SELECT ... FOR UPDATE. SQLite (no FOR UPDATE): a no-op UPDATE
    that takes the database's write lock, RETURNING the row."""
    query = _shift_for_save_query(db.session.get_bind().dialect.name)
    row = db.session.execute(query, {"shift_id": shift_id, "contact_id": contact_id},
                             execution_options={"populate_existing": True}).first()
    if row is None:
        return None, db.session.get(Contact, contact_id) is not None
    db.session.info[LOCKED] = (row[0].id, db.session().get_transaction())
    return row[0], bool(row[1])


# dialect name: the statement, built once (building it cost more than running it)
_SAVE_QUERIES = {}


def _shift_for_save_query(dialect):
    query = _SAVE_QUERIES.get(dialect)
    if query is not None:
        return query
    if dialect == "sqlite":
        table = Shift.__table__
        returning = ", ".join(f'"{c.name}"' for c in table.c)
        update = db.text(f"UPDATE shifts SET status = status WHERE id = :shift_id "  # nosec B608
                         f"RETURNING {returning}, EXISTS (SELECT 1 FROM contacts WHERE id = "
                         ":contact_id)"
                         ).columns(*table.c, db.column("stored", db.Boolean))
        query = db.select(Shift, update.selected_columns.stored).from_statement(update)
    else:
        stored = db.select(Contact.id).where(Contact.id == db.bindparam("contact_id")).exists()
        query = (db.select(Shift, stored).where(Shift.id == db.bindparam("shift_id"))
                 .with_for_update(of=Shift))
    return _SAVE_QUERIES.setdefault(dialect, query)


def _locked_here(shift):
    held = db.session.info.get(LOCKED)
    return held is not None and held[0] == shift.id and held[1] is db.session().get_transaction()


def _mark_late(contact, shift):
    """A contact reaching a closed (not yet validated) shift, e.g. from a phone's queue after the
    supervisor closed it: kept when it happened before the shift's end, flagged "arrivé après la
    clôture" for the supervisor's review and audited; one timed after the end is refused."""
    if shift.is_open:
        return
    if contact.occurred_at > shift.ended_at:
        raise Forbidden(_("La maraude est close : ce contact est postérieur à sa fin."))
    contact.is_late = True
    audit.record("contact.late", target=contact, organisation_id=shift.organisation_id,
                 details={"shift_id": shift.id, "closed_at": shift.closed_at.isoformat() + "Z"})


def check_occurred_at(data, shift):
    """The contact's time (naive UTC; now when not given), within its shift (5 minutes' leeway)."""
    value = data.get("occurred_at") or utcnow()
    if not isinstance(value, dt.datetime):
        raise ValidationError({"occurred_at": _("Heure invalide (HH:MM).")})
    value = to_utc(value)
    latest = utcnow() + dt.timedelta(hours=1)
    if shift.ended_at is not None:
        latest = min(latest, shift.ended_at + dt.timedelta(minutes=5))
    if value < shift.started_at - dt.timedelta(minutes=5) or value > latest:
        raise ValidationError({"occurred_at": _("Heure hors de la maraude.")})
    return value


def _sector(data):
    sector_id = data.get("sector_id")
    if sector_id is None:
        return None
    sector = (reference.sector(sector_id) if isinstance(sector_id, int)
              and not isinstance(sector_id, bool) else None)
    if sector is None:
        raise ValidationError({"sector": _("Secteur inconnu.")})
    return sector


def _materials(quantities):
    items = _refs("material", list(quantities or {}), "materials")
    rows = []
    for item in items:
        qty = contract.check_quantity(quantities[item.id])
        if qty:
            rows.append(ContactMaterial(material=item, quantity=qty))
    return rows


def _orientations(pairs):
    pairs = list(pairs or [])
    items = {i.id: i for i in _refs("destination", [p[0] for p in pairs], "orientations")}
    return [Orientation(destination=items[dest], is_accompanied=bool(acc)) for dest, acc in pairs]


def _referrals(contact, programme_ids, user):
    for programme in _refs("programme", programme_ids, "referrals"):
        # person_first_seen_on: what models._referrals_first_seen sets at a flush, given here for
        # the writers without one (rows.insert_graph)
        person = contact.person
        referral = Referral(id=str(uuid.uuid4()), organisation_id=contact.organisation_id,
                            person=person, programme=programme, status="proposed",
                            proposed_on=contact.occurred_on,
                            person_first_seen_on=person.first_seen_on if person else None)
        referral.events.append(ReferralEvent(status="proposed", occurred_on=contact.occurred_on,
                                             recorded_by_id=user.id))
        contact.referrals.append(referral)


def _person(contact, data, shift):
    if contact.kind != "known":
        return
    code = pseudonyms.code_from_digest(data.get("digest"))
    person, is_new = pseudonyms.touch_person(code, bool(data.get("is_weak")), contact.occurred_on,
                                             shift.team_id)
    contact.person, contact.is_first_contact = person, is_new


def _contact_id(data):
    if not data.get("id"):
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(data["id"])))
    except ValueError:
        raise ValidationError({"id": _("Identifiant invalide (UUID attendu).")}) from None


def record_contact(shift, user, data):
    """Validate and add one contact (with its person, material, orientations, referrals) to the
    session."""
    _check_shift(shift, user)
    with db.session.no_autoflush:
        contact = _build_contact(shift, user, data)
    db.session.add(contact)
    return contact


def insert_contact(shift, user, data):
    """``record_contact`` written at once with Core statements (``rows``: the same rows, roll-up
    mark included, without the ORM's flush); the contact returned is outside the session, with its
    keys and those of its orientations and referrals. The saves of the API and the logging form."""
    _check_shift(shift, user)
    with db.session.no_autoflush:
        contact = _build_contact(shift, user, data)
    return rows.insert_graph(contact)


def _build_contact(shift, user, data):
    kind, people_count = _check_contract(data, bool(data.get("digest")))
    occurred = check_occurred_at(data, shift)
    # shift_id, not shift=: the relation's other side (Shift.contacts, never read while saving)
    # would mark the shift changed, and the flush would then work through every relation of both
    contact = Contact(id=_contact_id(data), shift_id=shift.id,
                      organisation_id=shift.organisation_id,
                      team_id=shift.team_id, sector=_sector(data), occurred_at=occurred,
                      occurred_on=local_date(occurred), kind=kind, people_count=people_count,
                      sex=contract.check_choice("sex", data.get("sex")),
                      age_band=contract.check_choice("age_band", data.get("age_band")),
                      living_situation=_ref("living_situation", data.get("living_situation_id"),
                                            "living_situation"),
                      created_by_id=user.id, referrals=[])  # referrals: known empty, never loaded
    contact.products = _refs("product", data.get("product_ids"), "products")
    contact.needs = _refs("need", data.get("need_ids"), "needs")
    contact.materials = _materials(data.get("materials"))
    contact.orientations = _orientations(data.get("orientations"))
    _mark_late(contact, shift)
    _person(contact, data, shift)
    _referrals(contact, data.get("referral_programme_ids"), user)
    return contact


def can_undo(contact, user):
    limit = dt.timedelta(minutes=current_app.config["UNDO_MINUTES"])
    return (contact.created_by_id == user.id and contact.shift.is_open
            and utcnow() - contact.created_at <= limit)


def delete_contact(contact, user):
    """Undo: own contact, shift still open, within UNDO_MINUTES."""
    if contact is None or not can_undo(contact, user):
        raise Forbidden(_("Annulation impossible."))
    check_team(contact, user)
    _delete(contact, user, "undo")


def _delete(contact, user, how):
    """Every deletion of a contact goes through here: audited with what the contact held (no raw
    input)."""
    audit.record("contact.delete", actor=user, target=contact,
                 organisation_id=contact.organisation_id,
                 details={"how": how, "shift_id": contact.shift_id, "team_id": contact.team_id,
                          **{k: v for k, v in snapshot(contact).items() if v is not None}})
    db.session.delete(contact)


# --- editing a contact of an open or closed (not validated) shift ---------------------------------

def check_editable(contact, user):
    """Forbidden unless ``user`` may edit ``contact`` here: own organisation, shift not validated.

    Validated shifts are corrected by supervisors from the review pages, with a mandatory reason."""
    from ..review.services import ensure_editable
    ensure_editable(contact.shift, user)
    check_team(contact, user)
    if contact.shift.is_locked:
        raise Forbidden(_("Maraude validée : modification impossible ici."))


def check_team(contact, user):
    """A worker changes only the contacts of their own teams; supervisors and admins their
    organisation's."""
    teams = team_scope(user)
    if teams is not None and contact.team_id not in teams:
        raise Forbidden(_("Contact d'une autre équipe."))


def snapshot(contact):
    """Comparable text of every editable field (for the audit trail); never a raw code input."""
    return {
        "kind": contact.kind, "occurred_at": contact.occurred_at.strftime("%Y-%m-%d %H:%M"),
        "sector": contact.sector.code if contact.sector else None,
        "people_count": contact.people_count, "sex": contact.sex, "age_band": contact.age_band,
        "living_situation": contact.living_situation.code if contact.living_situation else None,
        "products": ",".join(sorted(i.code for i in contact.products)) or None,
        "needs": ",".join(sorted(i.code for i in contact.needs)) or None,
        "materials": ",".join(
            sorted(f"{m.material.code}:{m.quantity}" for m in contact.materials)) or None,
        "orientations": ",".join(sorted(o.destination.code + ("+acc" if o.is_accompanied else "")
                                        for o in contact.orientations)) or None,
        "referrals": ",".join(sorted(r.programme.code for r in contact.referrals)) or None,
        "person": contact.person.code[:8] if contact.person else None,
    }


def _edit_time(contact, data, shift):
    """The new time, or the stored one when the form sent the same minute (HH:MM drops seconds)."""
    value = data.get("occurred_at")
    if value is None or value.replace(second=0, microsecond=0) == contact.occurred_at.replace(
            second=0, microsecond=0):
        return contact.occurred_at
    return check_occurred_at(data, shift)


def _merge_materials(contact, quantities):
    wanted = {row.material.id: row for row in _materials(quantities)}
    for line in list(contact.materials):
        row = wanted.pop(line.material_id, None)
        if row is None:
            contact.materials.remove(line)
        else:
            line.quantity = row.quantity
    contact.materials.extend(wanted.values())


def _merge_referrals(contact, programme_ids, user):
    """Keep the referrals still ticked (and any already past "proposed"), drop the others, add new
    ones."""
    wanted = {item.id for item in _refs("programme", programme_ids, "referrals")}
    for referral in list(contact.referrals):
        if referral.programme_id in wanted:
            wanted.discard(referral.programme_id)
        elif referral.status == "proposed":
            contact.referrals.remove(referral)
    _referrals(contact, sorted(wanted), user)
    for referral in contact.referrals:
        referral.person = contact.person


def _edit_person(contact, data, shift):
    """Known: a new code when new inputs were given, else the stored one; other kinds carry no
    code."""
    if contact.kind != "known":
        drop_person(contact)
    elif data.get("digest"):
        _person(contact, data, shift)


def drop_person(contact):
    """An anonymous passage or a refusal has no person: unlink it, with its referrals. The person's
    first and last seen come back to its other contacts (the first of them becomes its first
    contact); the roll-ups follow the contact's change. Call it without autoflush, with the kind
    changed in the same step."""
    person, was_first = contact.person, contact.is_first_contact
    contact.person, contact.is_first_contact = None, False
    for referral in contact.referrals:
        referral.person = None
    if person is not None:
        _seen_again(person, contact.id, was_first)


def _seen_again(person, without_id, was_first):
    others = db.session.execute(
        db.select(Contact).where(Contact.person_id == person.id, Contact.id != without_id)
        .order_by(Contact.occurred_at, Contact.id)).scalars().all()
    person.first_seen_on = others[0].occurred_on if others else None
    person.last_seen_on, person.last_seen_team_id = (others[-1].occurred_on,
                                                     others[-1].team_id) if others else (
        None, None)
    if was_first and others:
        others[0].is_first_contact = True


def update_contact(contact, user, data):
    """Apply the edit form to ``contact``; audited field by field when its shift is already
    closed."""
    lock_shift(contact.shift)  # a validation committed meanwhile must be seen
    check_editable(contact, user)
    shift = contact.shift
    with db.session.no_autoflush:
        before = snapshot(contact)
        keeps_code = data.get("kind") == "known" and contact.person is not None
        kind, people_count = _check_contract(data, bool(data.get("digest")) or keeps_code)
        occurred = _edit_time(contact, data, shift)
        contact.kind, contact.occurred_at, contact.occurred_on = (kind, occurred,
                                                                  local_date(occurred))
        contact.sector = _sector(data)
        contact.people_count = people_count
        contact.sex = contract.check_choice("sex", data.get("sex"))
        contact.age_band = contract.check_choice("age_band", data.get("age_band"))
        contact.living_situation = _ref("living_situation", data.get("living_situation_id"),
                                        "living_situation")
        contact.products = _refs("product", data.get("product_ids"), "products")
        contact.needs = _refs("need", data.get("need_ids"), "needs")
        _merge_materials(contact, data.get("materials"))
        contact.orientations = _orientations(data.get("orientations"))
        _edit_person(contact, data, shift)
        _merge_referrals(contact, data.get("referral_programme_ids"), user)
    if not shift.is_open:
        _audit_changes(contact, user, before, snapshot(contact))
    return contact


def _audit_changes(contact, user, before, after):
    for field, old in before.items():
        if after[field] != old:
            audit.record("contact.edit", actor=user, target=contact, field=field, before=old,
                         after=after[field])


def remove_contact(contact, user):
    """Delete a contact of the organisation's shift while that shift is still open."""
    lock_shift(contact.shift)
    check_editable(contact, user)
    if not contact.shift.is_open:
        raise Forbidden(_("La maraude est close : le contact ne peut plus être supprimé."))
    _delete(contact, user, "remove")


USE_WEEKS = 8


def order_by_use(materials, team_id, today):
    """The material list with what the team gave most over the last USE_WEEKS weeks first (the order
    a team reaches for it on the phone); items given as often keep the order the organisation set
    (position)."""
    since = today - dt.timedelta(weeks=USE_WEEKS)
    given = dict(db.session.execute(
        db.select(ContactMaterial.material_id, db.func.sum(ContactMaterial.quantity))
        .join(Contact, Contact.id == ContactMaterial.contact_id)
        .where(Contact.team_id == team_id, Contact.occurred_on >= since)
        .group_by(ContactMaterial.material_id)).all())
    return sorted(materials, key=lambda item: -given.get(item.id, 0))
