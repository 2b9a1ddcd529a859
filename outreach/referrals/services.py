"""Referral lifecycle: proposed -> accepted | refused -> admitted -> exited. Nothing here commits.

Steps are new facts, not corrections: a referral keeps moving after the shift where it was
proposed is validated (the lock protects what was observed during that shift, not what happens
to the person afterwards), so ``advance_referral`` never looks at the shift's status.
Every step appends a ``ReferralEvent`` (date, reason, recorded by whom); the roll-ups see the
changed ``Referral`` through their flush hook.
"""
import datetime as dt
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, update
from werkzeug.exceptions import NotFound

from .. import access, audit, contract
from ..access import can_see, get_scoped, scoped, sees_person_level
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import db
from ..models import Contact, Person, Referral, ReferralEvent, RefItem, Team
from ..planexec.services import check_no_overlapping_stay
from ..reference.defaults import NO_PLACE_REFUSAL

NEXT_STEPS = {"proposed": ("accepted", "refused"), "accepted": ("admitted", "refused"),
              "admitted": ("exited",)}
OPEN_STATES = tuple(NEXT_STEPS)
AWAITING = ("proposed", "accepted")  # a step from someone else is expected
STEPS = ("accepted", "refused", "admitted", "exited")  # what can be recorded after the proposal
FINAL_STATES = ("refused", "exited")
DATE_COLUMNS = {"proposed": "proposed_on", "accepted": "accepted_on", "refused": "refused_on",
                "admitted": "admitted_on", "exited": "exited_on"}
REASON_KINDS = {"refused": "refusal_reason", "exited": "exit_reason"}
REASON_COLUMNS = {"refused": "refusal_reason", "exited": "exit_reason"}
PERSON_LEVEL_ROLES = access.PERSON_LEVEL_ROLES  # the name the handover module reads
STALE_DAYS = 7
SHORT_CODE = 6


@dataclass(frozen=True)
class OpenReferral:
    referral: Referral
    programme: RefItem
    team: Team
    last_step_on: dt.date
    days_since: int
    code_short: str | None
    # the encounter where it was proposed: tells anonymous ones apart
    contact_at: dt.datetime | None = None

    @property
    def status(self):
        return self.referral.status

    @property
    def is_stale(self):
        """Waiting for an answer or an admission for more than STALE_DAYS (a stay in place is not
        waiting)."""
        return self.status in AWAITING and self.days_since > STALE_DAYS

    @property
    def action_order(self):
        """What needs action first: stale ones, then proposals, then acceptances, then stays; the
        longest waiting first within each."""
        return (not self.is_stale, OPEN_STATES.index(self.status), self.last_step_on,
                self.referral.id)


def today():
    return contract.local_today()


def short_code(person):
    """The first characters of the pseudonym code, enough to tell a few persons apart in one
    list."""
    return person.code[:SHORT_CODE].upper() if person is not None else None


def _check_person_level(user):
    if not sees_person_level(user):
        raise Forbidden(_("Accès réservé aux équipes de l'organisation."))


def _last_step_column():
    return func.coalesce(Referral.admitted_on, Referral.accepted_on, Referral.proposed_on)


def open_referrals(user, programme_id=None, status=None, on=None):
    """The user's organisation's referrals not yet refused or exited, what needs action first
    (``action_order``)."""
    _check_person_level(user)
    if status is not None and status not in OPEN_STATES:
        raise ValidationError({"status": _("État inconnu.")})
    on = on or today()
    last_step = _last_step_column()
    query = (db.select(Referral, RefItem, Team, Person, last_step, Contact.occurred_at)
             .join(RefItem, RefItem.id == Referral.programme_id)
             .join(Contact, Contact.id == Referral.contact_id).join(Team,
                                                                    Team.id == Contact.team_id)
             .outerjoin(Person, Person.id == Referral.person_id)
             .where(Referral.status.in_(OPEN_STATES)))
    query = scoped(query, Referral, user)
    if programme_id is not None:
        query = query.where(Referral.programme_id == programme_id)
    if status is not None:
        query = query.where(Referral.status == status)
    rows = [OpenReferral(referral, programme, team, _as_date(last), (on - _as_date(last)).days,
                         short_code(person), contact_at)
            for referral, programme, team, person, last, contact_at in db.session.execute(query)]
    return sorted(rows, key=lambda row: row.action_order)


RECENT_DAYS = 14


def recently_ended(user, on=None):
    """The organisation's referrals refused or exited in the last ``RECENT_DAYS`` days, latest
    first: where a step recorded by mistake is found again (it left the open list)."""
    _check_person_level(user)
    since = (on or today()) - dt.timedelta(days=RECENT_DAYS)
    ended = func.coalesce(Referral.exited_on, Referral.refused_on)
    query = (db.select(Referral, RefItem, Person, ended).join(RefItem,
                                                              RefItem.id == Referral.programme_id)
             .outerjoin(Person, Person.id == Referral.person_id)
             .where(Referral.status.in_(FINAL_STATES), ended >= since)
             .order_by(ended.desc(), Referral.updated_at.desc(), Referral.id))
    query = scoped(query, Referral, user)
    return [(referral, programme, short_code(person), _as_date(day))
            for referral, programme, person, day in db.session.execute(query)]


def _as_date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def get_referral(referral_id, user):
    """The referral if it belongs to the user's organisation, else None (answered 404)."""
    _check_person_level(user)
    return get_scoped(Referral, referral_id, user) if _is_uuid(referral_id) else None


def _is_uuid(value):
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def last_step_on(referral):
    return getattr(referral, DATE_COLUMNS[referral.status])


def next_steps(referral):
    return NEXT_STEPS.get(referral.status, ())


def reason_choices(status):
    """Active reasons for a step; "pas de place disponible" is offered even when deactivated."""
    kind = REASON_KINDS.get(status)
    if kind is None:
        return []
    items = db.session.execute(db.select(RefItem).filter_by(kind=kind)
                               .order_by(RefItem.position, RefItem.id)).scalars().all()
    return [i for i in items if i.is_active or _always_recordable(i)]


def _always_recordable(item):
    return item.kind == "refusal_reason" and item.code == NO_PLACE_REFUSAL


def advance_referral(referral, user, status, occurred_on, reason_id=None):
    """Record the next step of ``referral``; returns the new ReferralEvent."""
    _check_person_level(user)
    if referral is None or not can_see(referral, user):
        raise NotFound()
    _check_transition(referral, status)
    day = _check_date(referral, occurred_on)
    reason = _check_reason(status, reason_id)
    if status == "admitted":
        check_no_overlapping_stay(referral, day)
    _claim(referral, status)
    referral.status = status
    setattr(referral, DATE_COLUMNS[status], day)
    if status in REASON_COLUMNS:
        setattr(referral, REASON_COLUMNS[status], reason)
    event = ReferralEvent(status=status, occurred_on=day, reason=reason, recorded_by_id=user.id)
    referral.events.append(event)
    return event


def is_replay(referral, status, occurred_on, reason_id=None):
    """True when ``status`` is already the referral's state with the same date and reason (a resent
    form)."""
    if referral.status != status or not referral.events:
        return False
    last = referral.events[-1]
    return last.status == status and last.occurred_on == occurred_on and last.reason_id == reason_id


def _check_transition(referral, status):
    if status not in STEPS:
        raise ValidationError({"status": _("Étape inconnue.")})
    if status not in next_steps(referral):
        raise ValidationError(
            {"status": _("Étape impossible depuis l'état actuel de l'orientation.")})


def _check_date(referral, value):
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError({"occurred_on": _("Date invalide (AAAA-MM-JJ).")})
    if value > today():
        raise ValidationError({"occurred_on": _("La date ne peut pas être dans le futur.")})
    if value < last_step_on(referral):
        raise ValidationError(
            {"occurred_on": _("La date ne peut pas précéder l'étape précédente.")})
    return value


def _check_reason(status, reason_id):
    kind = REASON_KINDS.get(status)
    if kind is None:
        if reason_id is not None:
            raise ValidationError({"reason": _("Cette étape ne prend pas de motif.")})
        return None
    if reason_id is None:
        raise ValidationError({"reason": _("Choisissez un motif.")})
    item = db.session.get(RefItem, reason_id) \
        if isinstance(reason_id, int) and not isinstance(reason_id, bool) else None
    if item is None or item.kind != kind or not (item.is_active or _always_recordable(item)):
        raise ValidationError({"reason": _("Motif inconnu pour cette étape.")})
    return item


UNDO_ROLES = ("supervisor", "admin")
REASON_MAX = 500


def can_undo(referral, user):
    return user.role in UNDO_ROLES and referral.status != "proposed" and len(referral.events) > 1


def undo_last_step(referral, user, reason):
    """Take back the last step recorded by mistake (supervisors): the referral returns to its
    previous state, the step's date and reason are cleared, its event is removed and the audit log
    keeps what was undone and why. Returns the state restored."""
    _check_person_level(user)
    if referral is None or not can_see(referral, user):
        raise NotFound()
    if user.role not in UNDO_ROLES:
        raise Forbidden(_("Seul·e un·e coordinateur·rice peut annuler une étape."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"undo_reason": _("Indiquez le motif de l'annulation.")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"undo_reason": _("Motif trop long (500 caractères au plus).")})
    if not can_undo(referral, user):
        raise ValidationError(
            {"undo_reason": _("Aucune étape à annuler : l'orientation est seulement proposée.")})
    undone, previous = referral.events[-1], referral.events[-2]
    before = f"{undone.status} {undone.occurred_on.isoformat()}"
    _claim(referral, previous.status)
    setattr(referral, DATE_COLUMNS[undone.status], None)
    if undone.status in REASON_COLUMNS:
        setattr(referral, REASON_COLUMNS[undone.status], None)
    referral.status = previous.status
    referral.events.remove(undone)
    audit.record("referral.undo_step", actor=user, target=("referrals", referral.id),
                 field="status",
                 before=before, after=previous.status, reason=reason,
                 organisation_id=referral.organisation_id)
    return previous.status


def _claim(referral, status):
    """Move the row only if nobody moved it since it was read (two phones on one referral)."""
    result = db.session.execute(update(Referral).where(Referral.id == referral.id,
                                                       Referral.status == referral.status)
                                .values(status=status).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(
            _("Cette orientation vient d'être modifiée par quelqu'un d'autre. Rechargez la page."))
