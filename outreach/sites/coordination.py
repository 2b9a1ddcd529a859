"""Working together: partners present on a shift, coordination meetings and their decisions followed
up on dates. Functions never commit; every change is audited."""
import datetime as dt

from flask_babel import gettext as _

from .. import audit
from ..access import can_see
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..models import Organisation, PlanAction
from ..shifts.services import lock_shift
from ..site_models import (
    CoordinationDecision,
    CoordinationMeeting,
    Partner,
    shift_partners,
)

PARTNERS = [
    # code, French label, English label
    ("aurore", "Aurore", "Aurore"),
    ("gaia", "Gaïa", "Gaïa"),
    ("charonne", "Charonne", "Charonne"),
    ("safe", "Safe", "Safe"),
    ("nova_dona", "Nova Dona", "Nova Dona"),
    ("ego", "EGO", "EGO"),
    ("empp", "EMPP (psychiatrie mobile)", "Mobile psychiatry team"),
    ("samu_social", "Samu social / 115", "Samu social / 115"),
    ("police", "Police (préfecture de police)", "Police (préfecture de police)"),
    ("ville", "Ville de Paris (DPMP)", "City of Paris (DPMP)"),
    ("autre", "Autre", "Other"),
]


def ensure_partner_defaults():
    known = set(db.session.execute(db.select(Partner.code)).scalars())
    for position, (code, label, label_en) in enumerate(PARTNERS):
        if code not in known:
            db.session.add(Partner(code=code, label=label, label_en=label_en, position=position))
    db.session.flush()


def list_partners(active_only=False):
    query = db.select(Partner).order_by(Partner.position, Partner.id)
    return db.session.execute(query.filter_by(is_active=True) if active_only
                              else query).scalars().all()


# --- partners on a shift --------------------------------------------------------------------------

def set_shift_partners(shift, user, partner_ids):
    """Replace the partners present on ``shift`` (own organisation, not validated)."""
    if shift is None or not can_see(shift, user):
        raise ValidationError({"shift_id": _("Maraude inconnue.")})
    lock_shift(shift)
    if shift.is_locked:
        raise Forbidden(_("Maraude validée : modification impossible ici."))
    partners = db.session.execute(
        db.select(Partner).where(Partner.id.in_(partner_ids or [-1]))).scalars().all()
    if len(partners) != len(set(partner_ids or [])):
        raise ValidationError({"partners": _("Partenaire inconnu.")})
    before = ",".join(sorted(p.code for p in partners_of(shift)))
    after = ",".join(sorted(p.code for p in partners))
    if before != after:
        _store_partners(shift, partners)
        audit.record("shift_partners_changed", actor=user, target=shift, field="partners",
                     before=before or None, after=after or None)


def _store_partners(shift, partners):
    db.session.execute(shift_partners.delete().where(shift_partners.c.shift_id == shift.id))
    if partners:
        db.session.execute(shift_partners.insert(),
                           [{"shift_id": shift.id, "partner_id": p.id} for p in partners])


def partners_of(shift):
    return db.session.execute(
        db.select(Partner).join(shift_partners, shift_partners.c.partner_id == Partner.id)
        .where(shift_partners.c.shift_id == shift.id).order_by(Partner.position)).scalars().all()


# --- meetings and decisions -----------------------------------------------------------------------

def _text(value, field, limit, required=True):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Champ obligatoire.")})
    if len(value) > limit:
        raise ValidationError({field: _("%(n)s caractères au plus.", n=limit)})
    return value


def _organisations(ids):
    found = db.session.execute(
        db.select(Organisation).where(Organisation.id.in_(ids or [-1]))).scalars().all()
    if not found or len(found) != len(set(ids)):
        raise ValidationError(
            {"organisations": _("Choisissez au moins une organisation présente.")})
    return found


def _action(action_id):
    if action_id in (None, ""):
        return None
    action = db.session.get(PlanAction, action_id) if isinstance(action_id, int) else None
    if action is None:
        raise ValidationError({"action_id": _("Action du plan inconnue.")})
    return action


def record_meeting(user, held_on, title, organisation_ids):
    if not isinstance(held_on, dt.date):
        raise ValidationError({"held_on": _("Date de la réunion attendue.")})
    meeting = CoordinationMeeting(held_on=held_on, title=_text(title, "title", 200),
                                  created_by_id=user.id,
                                  organisations=_organisations(organisation_ids))
    db.session.add(meeting)
    db.session.flush()
    audit.record("coordination_meeting_recorded", actor=user, target=meeting, after=meeting.title,
                 details={"held_on": held_on.isoformat(),
                          "organisations": [o.code for o in meeting.organisations]})
    return meeting


def add_decision(meeting, user, text, action_id=None, follow_up_on=None):
    if follow_up_on is not None and follow_up_on < meeting.held_on:
        raise ValidationError({"follow_up_on": _("Le suivi ne peut précéder la réunion.")})
    decision = CoordinationDecision(meeting=meeting, text=_text(text, "text", 500),
                                    action=_action(action_id), follow_up_on=follow_up_on)
    db.session.add(decision)
    db.session.flush()
    audit.record("coordination_decision_added", actor=user, target=decision, after=decision.text,
                 details={"meeting_id": meeting.id,
                          "follow_up_on": follow_up_on.isoformat() if follow_up_on else None})
    return decision


def mark_decision_done(decision, user, done_on):
    if done_on < decision.meeting.held_on:
        raise ValidationError({"done_on": _("Le suivi ne peut précéder la réunion.")})
    audit.record("coordination_decision_done", actor=user, target=decision, field="done_on",
                 before=decision.done_on, after=done_on)
    decision.done_on = done_on


def list_meetings(limit=50):
    return db.session.execute(db.select(CoordinationMeeting).options(
        db.selectinload(CoordinationMeeting.decisions),
        db.selectinload(CoordinationMeeting.organisations))
        .order_by(CoordinationMeeting.held_on.desc(),
                  CoordinationMeeting.id.desc()).limit(limit)).scalars().all()


def late_decisions(today):
    """Decisions not done whose follow-up date has passed, the oldest first."""
    return db.session.execute(db.select(CoordinationDecision).where(
        CoordinationDecision.done_on.is_(None), CoordinationDecision.follow_up_on < today)
        .options(db.joinedload(CoordinationDecision.meeting),
                 db.joinedload(CoordinationDecision.action))
        .order_by(CoordinationDecision.follow_up_on)).scalars().all()
