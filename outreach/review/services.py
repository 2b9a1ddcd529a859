"""Review services: anomalies (GROUP BY), summaries, validation lock, audited corrections. No
commits here.

Indicators note (validated_only): indicators count contacts of shifts with status "validated" by
default; passing validated_only=False adds open/closed shifts, shown as provisional.
"""
import hashlib
import json
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func

from .. import audit, contract
from ..access import can_see, get_scoped, scoped
from ..contacts.forms import parse_time
from ..contacts.services import check_occurred_at, drop_person
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..labels import field_label
from ..models import (
    AuditEvent,
    Contact,
    ContactMaterial,
    Orientation,
    Referral,
    RefItem,
    Sector,
    Shift,
    ShiftStock,
    utcnow,
)
from ..referrals.services import AWAITING, STALE_DAYS
from ..shifts.services import local_clock, local_date, lock_shift
from ..signoff.services import check_month_open

OPEN_HOURS = 14
DUPLICATE_MINUTES = 15
CORRECTABLE = ("kind", "sector_id", "people_count", "sex", "age_band", "living_situation_id",
               "occurred_at")
CHOICES = {"kind": contract.KINDS, "sex": contract.SEXES, "age_band": contract.AGE_BANDS}
CHOICE_FAMILY = {"kind": "contact_kind", "sex": "sex", "age_band": "age_band"}
PAGE_SIZE = 100
def ensure_editable(shift, user):
    """Raise Forbidden when ``user`` may not change ``shift`` or its contacts (validated:
    supervisors only)."""
    if not can_see(shift, user):
        raise Forbidden(_("Maraude d'une autre organisation."))
    lock_shift(shift)  # until commit: a validation racing with this edit is seen, or waits for it
    if shift.is_locked and user.role not in ("supervisor", "admin"):
        raise Forbidden(_("Maraude validée : modification réservée au superviseur."))
    check_month_open(shift)


def get_shift(shift_id, user):
    """The shift if it belongs to the user's organisation, else None (answered with 404)."""
    return get_scoped(Shift, shift_id, user)


def list_shifts(user, team_id=None, status=None, week=None, page=1):
    """(shifts of page ``page``, newest first, PAGE_SIZE per page; whether an older page exists)."""
    query = scoped(db.select(Shift).order_by(Shift.started_at.desc(), Shift.id), Shift, user)
    if team_id:
        query = query.filter(Shift.team_id == team_id)
    if status:
        query = query.filter(Shift.status == status)
    if week:
        query = query.filter(Shift.shift_on >= week, Shift.shift_on < week + timedelta(days=7))
    page = max(page or 1, 1)
    rows = db.session.execute(
        query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).scalars().all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def anomalies(shift_ids, now=None):
    """{shift_id: [french message, ...]} computed with one GROUP BY query per anomaly kind."""
    found = {}
    if not shift_ids:
        return found
    now = now or utcnow()
    for sid, message in (_long_open(shift_ids, now) + _outside(shift_ids) + _duplicates(shift_ids)
                         + _over_given(shift_ids) + _stale_referrals(shift_ids, now)):
        found.setdefault(sid, []).append(message)
    return found


def _long_open(ids, now):
    rows = db.session.execute(db.select(Shift.id).filter(
        Shift.id.in_(ids), Shift.is_open,
        Shift.started_at < now - timedelta(hours=OPEN_HOURS))).scalars()
    return [(sid, _("Ouverte depuis plus de %(h)s h", h=OPEN_HOURS)) for sid in rows]


def _outside(ids):
    late = func.coalesce(Shift.ended_at, datetime(9999, 1, 1))
    rows = db.session.execute(
        db.select(Contact.shift_id, func.count()).join(Shift, Shift.id == Contact.shift_id)
        .filter(Contact.shift_id.in_(ids))
        .filter((Contact.occurred_at < Shift.started_at) | (Contact.occurred_at > late))
        .group_by(Contact.shift_id)).all()
    return [(sid, _("%(n)s contact(s) hors des horaires", n=n)) for sid, n in rows]


def _duplicates(ids):
    """Persons seen twice in a shift (GROUP BY ... HAVING), then the 15-minute window checked on
    those rows."""
    repeated = (db.select(Contact.shift_id, Contact.person_id).filter(
        Contact.shift_id.in_(ids), Contact.person_id.is_not(None))
        .group_by(Contact.shift_id, Contact.person_id).having(func.count() > 1).subquery())
    rows = db.session.execute(
        db.select(Contact.shift_id, Contact.person_id, Contact.occurred_at).join(
        repeated,
        (repeated.c.shift_id == Contact.shift_id) & (repeated.c.person_id == Contact.person_id))
        .order_by(Contact.shift_id, Contact.person_id, Contact.occurred_at)).all()
    window, hits, previous = timedelta(minutes=DUPLICATE_MINUTES), {}, None
    for sid, pid, at in rows:
        if previous and previous[:2] == (sid, pid) and at - previous[2] <= window:
            hits.setdefault(sid, set()).add(pid)
        previous = (sid, pid, at)
    return [(sid, _("%(n)s doublon(s) probable(s)", n=len(pids))) for sid, pids in hits.items()]


def _given_by_material(ids):
    return (db.select(Contact.shift_id.label("shift_id"),
                      ContactMaterial.material_id.label("material_id"),
                      func.sum(ContactMaterial.quantity).label("given"))
            .join(Contact, Contact.id == ContactMaterial.contact_id)
            .filter(Contact.shift_id.in_(ids))
            .group_by(Contact.shift_id, ContactMaterial.material_id).subquery())


def _over_given(ids):
    given = _given_by_material(ids)
    rows = db.session.execute(
        db.select(given.c.shift_id, func.count())
        .outerjoin(ShiftStock, (ShiftStock.shift_id == given.c.shift_id)
                   & (ShiftStock.material_id == given.c.material_id))
        .filter(given.c.given > func.coalesce(ShiftStock.taken_out, 0))
        .group_by(given.c.shift_id)).all()
    return [(sid, _("Matériel distribué > sorti (%(n)s type(s))", n=n)) for sid, n in rows]


def _stale_referrals(ids, now):
    rows = db.session.execute(
        db.select(Contact.shift_id, func.count()).join(Referral, Referral.contact_id == Contact.id)
        .filter(Contact.shift_id.in_(ids), Referral.status.in_(AWAITING),
                Referral.updated_at < now - timedelta(days=STALE_DAYS))
        .group_by(Contact.shift_id)).all()
    return ([(sid, _("%(n)s orientation(s) hébergement sans nouvelle depuis %(d)s jours", n=n,
                     d=STALE_DAYS)) for sid, n in rows])


def _grouped(query):
    return db.session.execute(query).all()


def summary(shift):
    """Every number of the shift summary, each from one aggregate query."""
    sid = shift.id
    base = db.select(Contact).filter(Contact.shift_id == sid).subquery()
    return {
        "by_kind": _grouped(db.select(base.c.kind, func.count(), func.sum(base.c.people_count))
                            .group_by(base.c.kind).order_by(base.c.kind)),
        "persons": db.session.scalar(db.select(func.count(func.distinct(base.c.person_id)))),
        "new_persons": db.session.scalar(db.select(func.count(func.distinct(base.c.person_id)))
                                         .filter(base.c.is_first_contact.is_(True))),
        "anonymous": db.session.scalar(db.select(func.coalesce(func.sum(base.c.people_count), 0))
                                       .filter(base.c.kind == "anonymous")),
        "materials": _materials(sid),
        "orientations": _orientations(sid),
        "referrals": _referrals(sid),
    }


def summary_digest(numbers):
    """Fingerprint of a summary: the page sends it back with the validation, so a stale page is
    refused."""
    text = json.dumps(
        {k: [list(r) for r in v] if isinstance(v, list) else v for k, v in numbers.items()},
        sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _materials(sid):
    label = RefItem.display_label_column()
    given = (db.select(ContactMaterial.material_id.label("mid"),
                       func.sum(ContactMaterial.quantity).label("given"))
             .join(Contact,
                   Contact.id == ContactMaterial.contact_id).filter(Contact.shift_id == sid)
             .group_by(ContactMaterial.material_id).subquery())
    stock = db.select(ShiftStock).filter(ShiftStock.shift_id == sid).subquery()
    ids = db.select(given.c.mid.label("mid")).union(db.select(stock.c.material_id)).subquery()
    return _grouped(
        db.select(label, func.coalesce(given.c.given, 0), func.coalesce(stock.c.taken_out, 0),
                  func.coalesce(stock.c.brought_back, 0))
        .select_from(ids).join(RefItem, RefItem.id == ids.c.mid)
        .outerjoin(given, given.c.mid == ids.c.mid).outerjoin(stock,
                                                              stock.c.material_id == ids.c.mid)
        .order_by(RefItem.position, label))


def _orientations(sid):
    label = RefItem.display_label_column()
    accompanied = func.sum(db.case((Orientation.is_accompanied.is_(True), 1), else_=0))
    return _grouped(db.select(label, func.count(), accompanied)
                    .select_from(Orientation).join(Contact, Contact.id == Orientation.contact_id)
                    .join(RefItem,
                          RefItem.id == Orientation.destination_id).filter(Contact.shift_id == sid)
                    .group_by(label).order_by(label))


def _referrals(sid):
    label = RefItem.display_label_column()
    return _grouped(db.select(label, Referral.status, func.count())
                    .select_from(Referral).join(Contact, Contact.id == Referral.contact_id)
                    .join(RefItem,
                          RefItem.id == Referral.programme_id).filter(Contact.shift_id == sid)
                    .group_by(label, Referral.status).order_by(label, Referral.status))


def trail(shift):
    """Audit events of the shift and of its contacts, oldest first."""
    contact_ids = db.select(Contact.id).filter(Contact.shift_id == shift.id)
    return db.session.execute(db.select(AuditEvent).filter(
        ((AuditEvent.target_type == "shifts") & (AuditEvent.target_id == shift.id))
        | ((AuditEvent.target_type == "contacts") & AuditEvent.target_id.in_(contact_ids)))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)).scalars().all()


def validate_shift(shift, user, seen=None):
    """Validate a closed shift; ``seen``: the digest of the summary the supervisor read (refused if
    stale)."""
    lock_shift(shift)
    if not shift.is_closed:
        raise ValidationError({"status": _("Seule une maraude clôturée peut être validée.")})
    if seen is not None and seen != summary_digest(summary(shift)):
        raise ValidationError(
            {"summary": _("La synthèse a changé depuis son affichage : relisez-la avant de "
                          "valider.")})
    shift.status, shift.validated_at, shift.validated_by_id = "validated", utcnow(), user.id
    audit.record("shift.validate", actor=user, target=shift, field="status", before="closed",
                 after="validated")


def unvalidate_shift(shift, user, reason):
    lock_shift(shift)
    if not shift.is_locked:
        raise ValidationError({"status": _("Cette maraude n'est pas validée.")})
    check_month_open(shift)
    _require_reason(reason)
    shift.status, shift.validated_at, shift.validated_by_id = "closed", None, None
    audit.record("shift.unvalidate", actor=user, target=shift, field="status", before="validated",
                 after="closed", reason=reason.strip())


REASON_MAX = AuditEvent.reason.type.length  # what the audit trail keeps


def _require_reason(reason):
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Le motif est obligatoire.")})
    if len(reason.strip()) > REASON_MAX:
        raise ValidationError({"reason": _("Le motif dépasse %(n)s caractères.", n=REASON_MAX)})


def correct_contact(contact, user, field, value, reason):
    """Change one field of a contact of a closed/validated shift, audited with a mandatory
    reason."""
    ensure_editable(contact.shift, user)
    _require_reason(reason)
    if field.startswith("material-"):
        return _correct_material(contact, user, field, value, reason.strip())
    if field not in CORRECTABLE:
        raise ValidationError({"field": _("Champ non corrigeable.")})
    new = _corrected_time(contact, value) if field == "occurred_at" else _parse(field, value)
    _check_shape(contact, field, new)
    before = getattr(contact, field)
    code = (contact.person.code[:8] if field == "kind" and new != "known" and contact.person
            else None)
    with db.session.no_autoflush:  # the kind and the person change together (the CHECK constraints)
        setattr(contact, field, new)
        if field == "occurred_at":
            contact.occurred_on = local_date(new)
        if code:
            drop_person(contact)
    audit.record("contact.correct", actor=user, target=contact, field=field, before=before,
                 after=new, reason=reason.strip())
    if code:
        audit.record("contact.correct", actor=user, target=contact, field="person", before=code,
                     after=None, reason=reason.strip())


def current_values(contact):
    """What the correction form shows and posts back for each field: codes, ids, the Paris clock
    time and each material's quantity, as text; a posted value equal to it is not a correction."""
    values = {"kind": contact.kind, "sex": contact.sex or "", "age_band": contact.age_band or "",
              "sector_id": str(contact.sector_id or ""), "people_count": str(contact.people_count),
              "living_situation_id": str(contact.living_situation_id or ""),
              "occurred_at": local_clock(contact.occurred_at)}
    values.update({f"material-{m.material_id}": str(m.quantity) for m in contact.materials})
    return values


def correct_contact_fields(contact, user, posted, reason):
    """Every field of ``posted`` ({field: text}) whose value differs from ``current_values``,
    corrected with one reason; the kind first (a correction to anonymous may then change the count).
    A refusal names its field."""
    _require_reason(reason)
    before = current_values(contact)
    changed = [(f, v.strip()) for f, v in posted.items()
               if v is not None
               and v.strip() != before.get(f, "0" if f.startswith("material-") else "")]
    if not changed:
        raise ValidationError({"value": _("Aucune valeur n'a changé.")})
    for field, value in sorted(changed, key=lambda item: item[0] != "kind"):
        try:
            correct_contact(contact, user, field, value, reason)
        except ValidationError as exc:
            key = "field" if "field" in exc.errors else field  # an unknown field is refused as such
            raise ValidationError({key: " ".join(exc.errors.values())}) from None
    return [field for field, _value in changed]


def _check_shape(contact, field, new):
    """The contact contract on the corrected contact: a known one keeps one person and counts 1; a
    correction to anonymous or refusal drops the person (``contacts.services.drop_person``)."""
    kind = new if field == "kind" else contact.kind
    people_count = new if field == "people_count" else contact.people_count
    errors = contract.combination_errors(kind, kind == "known" and contact.person is not None,
                                         people_count)
    if errors:
        raise ValidationError({"value": " ".join(errors.values())})


def _corrected_time(contact, value):
    """HH:MM on the shift's night, or an ISO date and time; without a zone both are Paris time (the
    contact contract's rule); within the shift."""
    text = (value or "").strip()
    if len(text) <= 5:
        new = _contract_value(parse_time, {"occurred_at": text}, "occurred_at",
                              contact.shift.started_at)
    else:
        new = _contract_value(contract.parse_datetime, text, "occurred_at")
    if new is None:
        raise _invalid("occurred_at", _("valeur obligatoire."))
    return _contract_value(check_occurred_at, {"occurred_at": new}, contact.shift)


def _invalid(field, message):
    return ValidationError({"value": _("%(f)s : %(m)s", f=field_label(field), m=message)})


def _contract_value(check, *args):
    """``check(*args)`` of the contact contract, its refusal keyed on the correction's ``value``."""
    try:
        return check(*args)
    except ValidationError as exc:
        raise ValidationError({"value": " ".join(exc.errors.values())}) from None


def _parse(field, value):
    """The stored value of ``field`` for the text ``value``; a ValidationError naming the field
    otherwise."""
    value = (value or "").strip()
    if field == "kind":
        return _contract_value(contract.check_kind, value)
    if field in ("sex", "age_band"):
        if not value:
            raise _invalid(field, _("valeur obligatoire."))
        return _contract_value(contract.check_choice, field, value)
    if field == "sector_id":
        return _reference_id(field, Sector, value)
    if field == "living_situation_id":
        return _reference_id(field, RefItem, value, "living_situation")
    return _contract_value(contract.parse_whole, value, field, contract.check_people_count)


def _reference(model, value, kind=None):
    """The active entry of a reference list whose id or code is ``value``, else None."""
    query = db.select(model).filter(model.is_active.is_(True))
    if kind:
        query = query.filter(model.kind == kind)
    if value.isascii() and value.isdigit() and len(value) < 10:
        query = query.filter(model.id == int(value))
    else:
        query = query.filter(model.code == value)
    return db.session.execute(query).scalars().first()


def _reference_id(field, model, value, kind=None):
    item = _reference(model, value, kind) if value else None
    if item is None:
        raise _invalid(field, _("« %(v)s » n'est pas une entrée active de la liste.", v=value[:40]))
    return item.id


def _correct_material(contact, user, field, value, reason):
    item = _reference(RefItem, field.partition("-")[2], "material")
    if item is None:
        raise ValidationError({"field": _("Matériel inconnu ou retiré de la liste.")})
    try:
        qty = contract.parse_whole(value, field, contract.check_quantity)
    except ValidationError as exc:
        raise _invalid(field, exc.errors[field]) from None
    line = next((m for m in contact.materials if m.material_id == item.id), None)
    before = line.quantity if line else 0
    if line and qty == 0:
        contact.materials.remove(line)
    elif line:
        line.quantity = qty
    elif qty:
        contact.materials.append(ContactMaterial(material_id=item.id, quantity=qty))
    audit.record("contact.correct", actor=user, target=contact, field=f"material-{item.id}",
                 before=before, after=qty, reason=reason)


def week_series(user, team_id, week_start):
    """Per day of the week and of the previous one: contacts, distinct persons, referrals (GROUP BY
    day)."""
    start = week_start - timedelta(days=7)
    query = (db.select(Contact.occurred_on, func.count(func.distinct(Contact.id)),
                       func.count(func.distinct(Contact.person_id)),
                       func.count(func.distinct(Referral.id)))
             .outerjoin(Referral, Referral.contact_id == Contact.id)
             .filter(Contact.team_id == team_id, Contact.occurred_on >= start,
                     Contact.occurred_on < week_start + timedelta(days=7)))
    query = scoped(query, Contact, user)
    rows = {day: (c, p, r)
            for day, c, p, r in db.session.execute(query.group_by(Contact.occurred_on))}
    return [(week_start + timedelta(days=i), rows.get(week_start + timedelta(days=i), (0, 0, 0)),
             rows.get(start + timedelta(days=i), (0, 0, 0))) for i in range(7)]
