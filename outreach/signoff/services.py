"""Sign-off of an organisation's month: provisional -> signed off -> accepted | returned; reopened
with a reason. Nothing here commits; every step is audited.

No row means provisional. A returned month is provisional again for its figures (the organisation
fixes and signs anew); a reopened one too. ``check_month_open`` is the one rule the review and
correction paths call."""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func

from .. import audit
from ..access import is_plan_level, organisation_scope
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..indicators.rollups import month_expr
from ..models import Organisation, Shift, utcnow
from ..shifts.services import local_date
from ..site_models import MonthSignoff

# what the figures of a month are, the least advanced first
FIGURE_STATES = ("provisional", "signed_off", "accepted")
LOCKED = ("signed_off", "accepted")
TEXT_MAX = 500


def month_start(day):
    return day.replace(day=1)


def current_month():
    return month_start(local_date(utcnow()))


def parse_month(text):
    """``2026-03`` -> date(2026, 3, 1); None when it is not a month."""
    try:
        return dt.date.fromisoformat(f"{text}-01") if isinstance(text,
                                                                 str) and len(text) == 7 else None
    except ValueError:
        return None


def _next_month(month):
    return (month + dt.timedelta(days=32)).replace(day=1)


def get_signoff(organisation_id, month, lock=False):
    """The month's row or None; ``lock``: held until the transaction ends (two plan managers
    deciding at once: the second sees the first's decision). SQLite has one writer at a time
    anyway."""
    query = db.select(MonthSignoff).filter_by(organisation_id=organisation_id, month=month)
    return db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def status_of(organisation_id, month):
    row = get_signoff(organisation_id, month)
    return row.status if row else "provisional"


def figure_state(status):
    """The state a month's figures are labelled with: a returned month is provisional again."""
    return status if status in FIGURE_STATES else "provisional"


def shift_counts(organisation_id, month):
    """(shifts of the month, of which validated) for one organisation."""
    total, validated = db.session.execute(
        db.select(func.count(Shift.id), func.count(Shift.validated_at))
        .where(Shift.organisation_id == organisation_id, Shift.shift_on >= month,
               Shift.shift_on < _next_month(month))).one()
    return total, validated


def _row_for(organisation_id, month):
    row = get_signoff(organisation_id, month)
    if row is None:
        row = MonthSignoff(organisation_id=organisation_id, month=month, status="provisional")
        db.session.add(row)
    return row


def _text(value, field, message):
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > TEXT_MAX:
        raise ValidationError({field: _("%(n)s caractères au plus.", n=TEXT_MAX)})
    return value


def _record(action, user, row, before, **extra):
    audit.record(action, actor=user, target=("month_signoffs", row.id), field="status",
                 before=before, after=row.status, organisation_id=row.organisation_id,
                 details={"month": row.month.isoformat()[:7]}, **extra)


def sign_off_month(user, organisation_id, month):
    """The organisation's admin signs a finished month whose shifts are all validated."""
    if (user.role != "admin" or user.organisation_id is None
        or user.organisation_id != organisation_id):
        raise Forbidden(_("Seul·e l'administrateur·rice de l'organisation signe ses mois."))
    if month >= current_month():
        raise ValidationError({"month": _("Un mois se signe une fois terminé.")})
    total, validated = shift_counts(organisation_id, month)
    if validated < total:
        raise ValidationError({"month": _("%(n)s maraude(s) du mois ne sont pas encore validées.",
                                          n=total - validated)})
    row = _row_for(organisation_id, month)
    if row.status not in ("provisional", "returned"):
        raise ValidationError({"month": _("Ce mois est déjà signé.")})
    db.session.flush()
    before, row.status = row.status, "signed_off"
    row.signed_off_at, row.signed_off_by_id = utcnow(), user.id
    _record("month.sign_off", user, row, before)
    return row


def _plan_decision(user, row, expected):
    if not is_plan_level(user):
        raise Forbidden(_("Seul·e un·e pilote du plan accepte ou renvoie un mois."))
    if row is None or row.status != expected:
        raise ValidationError({"month": _("Ce mois n'est pas signé par l'organisation.")})


def accept_month(user, row):
    _plan_decision(user, row, "signed_off")
    before, row.status = row.status, "accepted"
    row.decided_at, row.decided_by_id, row.comment = utcnow(), user.id, None
    _record("month.accept", user, row, before)
    return row


def return_month(user, row, comment):
    """Back to the organisation, with what to fix."""
    _plan_decision(user, row, "signed_off")
    comment = _text(comment, "comment", _("Dites à l'organisation ce qu'il faut corriger."))
    before, row.status = row.status, "returned"
    row.decided_at, row.decided_by_id, row.comment = utcnow(), user.id, comment
    _record("month.return", user, row, before, reason=comment)
    return row


def can_reopen(user, row):
    return row is not None and row.status in LOCKED and (
        is_plan_level(user)
        or (user.role == "admin" and user.organisation_id == row.organisation_id))


def reopen_month(user, row, reason):
    """A signed-off or accepted month opened again for corrections: a reason, audited."""
    if row is None or row.status not in LOCKED:
        raise ValidationError({"reason": _("Ce mois n'est ni signé ni accepté.")})
    if not can_reopen(user, row):
        raise Forbidden(
            _("Seul·e un·e pilote du plan ou l'administrateur·rice de l'organisation rouvre un "
                "mois."))
    reason = _text(reason, "reason", _("Le motif de la réouverture est obligatoire."))
    before, row.status = row.status, "provisional"
    row.reopen_reason, row.reopened_at = reason, utcnow()
    _record("month.reopen", user, row, before, reason=reason)
    return row


def check_month_open(shift):
    """Refuse a change to a shift of a signed-off or accepted month (it must be reopened first)."""
    status = status_of(shift.organisation_id, month_start(shift.shift_on))
    if status in LOCKED:
        raise Forbidden(
            _("Le mois de cette maraude est %(state)s : il doit être rouvert, avec un motif, avant "
              "toute correction.", state=_state_word(status)))


def locked_months(organisation_id, months):
    """{month: status} of those ``months`` (first days) signed off or accepted: nothing may be added
    to them (an import) or changed in them until they are reopened. One query."""
    if not months:
        return {}
    rows = db.session.execute(db.select(MonthSignoff.month, MonthSignoff.status).where(
        MonthSignoff.organisation_id == organisation_id, MonthSignoff.month.in_(list(months)),
        MonthSignoff.status.in_(list(LOCKED))))
    return dict(rows.all())


def locked_month_message(status):
    return _("Le mois est %(state)s : il doit être rouvert, avec un motif, avant d'y ajouter des "
             "contacts.", state=_state_word(status))


def _state_word(status):
    from ..labels import MONTH_STATE
    return str(MONTH_STATE[status]).lower()


# --- what the pages and the figures show ----------------------------------------------------------

def organisations_for(user):
    org_id = organisation_scope(user)
    query = db.select(Organisation).order_by(Organisation.name)
    if org_id is not None:
        query = query.where(Organisation.id == org_id)
    else:
        query = query.where(Organisation.is_partner_institution.is_(False))
    return db.session.execute(query).scalars().all()


def recent_months(count=12, today=None):
    """The last ``count`` finished months, the latest first."""
    month = month_start(today or local_date(utcnow()))
    months = []
    for _i in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        months.append(month)
    return months


def overview(user, months):
    """[(organisation, [(month, row or None, (shifts, validated))])] as ``user`` may see them."""
    organisations = organisations_for(user)
    ids = [o.id for o in organisations]
    rows = {(r.organisation_id, r.month): r
            for r in db.session.execute(db.select(MonthSignoff).where(
        MonthSignoff.organisation_id.in_(ids or [-1]), MonthSignoff.month.in_(months))).scalars()}
    counts = _counts(ids, months)
    return [(org, [(m, rows.get((org.id, m)), counts.get((org.id, m), (0, 0))) for m in months])
            for org in organisations]


def _counts(organisation_ids, months):
    """{(organisation, month): (shifts, validated)}, from one read grouped by organisation and
    day."""
    if not months:
        return {}
    out = {}
    for org_id, day, total, validated in db.session.execute(
            db.select(Shift.organisation_id, Shift.shift_on, func.count(Shift.id),
                      func.count(Shift.validated_at))
            .where(Shift.organisation_id.in_(organisation_ids or [-1]),
                   Shift.shift_on >= min(months),
                   Shift.shift_on < _next_month(max(months))).group_by(
                       Shift.organisation_id, Shift.shift_on)):
        key = (org_id, month_start(_as_date(day)))
        before = out.get(key, (0, 0))
        out[key] = (before[0] + total, before[1] + validated)
    return out


def awaiting(user):
    """Signed-off months waiting for a plan manager's decision (plan level only)."""
    if not is_plan_level(user):
        return []
    return db.session.execute(db.select(MonthSignoff).where(MonthSignoff.status == "signed_off")
                              .order_by(MonthSignoff.month,
                                        MonthSignoff.organisation_id)).scalars().all()


def month_states(months, organisation_id=None):
    """{month: figure state} of the figures of each month, for one organisation or all together: the
    least advanced state among the organisations that worked that month (a month nobody worked is
    provisional)."""
    if not months:
        return {}
    first, end = min(months), _next_month(max(months))
    # grouped by month in SQL: a year's shifts are read from an index, never brought to Python
    month = month_expr(Shift.shift_on, db.session.get_bind().dialect.name)
    worked = db.select(Shift.organisation_id, month).where(Shift.shift_on >= first,
                                                           Shift.shift_on < end)
    if organisation_id:
        worked = worked.where(Shift.organisation_id == organisation_id)
    active = {}
    for org_id, day in db.session.execute(worked.group_by(Shift.organisation_id, month)):
        active.setdefault(month_start(_as_date(day)), set()).add(org_id)
    rows = {(r.organisation_id, _as_date(r.month)): r.status for r in db.session.execute(
        db.select(MonthSignoff).where(MonthSignoff.month >= first,
                                      MonthSignoff.month < end)).scalars()}
    states = {}
    for month in months:
        orgs = active.get(month, set())
        order = [FIGURE_STATES.index(figure_state(rows.get((o, month), "provisional")))
                 for o in orgs]
        states[month] = FIGURE_STATES[min(order)] if order else "provisional"
    return states


def _as_date(value):
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def period_months(period):
    """The months of an indicator period (``period.start``, ``period.months``), the earliest
    first."""
    month, months = period.start, []
    for _i in range(period.months):
        months.append(month)
        month = _next_month(month)
    return months


def period_states(period, filters):
    """[(month, label, figure state)] of the months of ``period`` for the filters' organisation (or
    all)."""
    from ..indicators.services import month_label
    months = period_months(period)
    states = month_states(months, (filters or {}).get("organisation_id"))
    return [(m, month_label(m), states[m]) for m in months]


def period_state_codes(period, filters):
    """[{"month": "YYYY-MM", "state": figure state code}] of ``period``, as the read API gives
    them."""
    return [{"month": month.isoformat()[:7], "state": state}
            for month, _label, state in period_states(period, filters)]
