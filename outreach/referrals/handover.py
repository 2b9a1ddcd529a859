"""A referral handed over to another organisation (issue 21 item 4).

The receiving organisation reads the referral (programme, state, the dates of its steps), the
person's code and the "last seen" line (``pseudonyms.services.person_status``: what may cross
organisations), never a contact, a shift, a user or any other record of the sending organisation:
its pages read through ``received`` and ``get_received`` only, which select those columns and
nothing else. The handover is in both organisations' audit trails. Services here never commit; the
views below are thin.
"""
import datetime as dt
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..access import can_see
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..labels import REFERRAL_STATUS, errors_text
from ..models import Organisation, Person, Referral, RefItem
from ..pseudonyms.services import person_status
from ..site_models import ReferralHandover
from ..views import attempt
from . import bp, services

STEP_DATES = (("proposed", "proposed_on"), ("accepted", "accepted_on"), ("refused", "refused_on"),
              ("admitted", "admitted_on"), ("exited", "exited_on"))


@dataclass(frozen=True)
class Received:
    """What the receiving organisation may read of a handed-over referral: nothing else is
    loaded."""
    handover_id: int
    handed_over_on: dt.date
    from_organisation: str
    programme: str
    status: str
    steps: tuple  # (status, date) of the steps recorded
    code_short: str | None
    seen: dict  # person_status(): known, last_seen_on, last_seen_team


# --- services -------------------------------------------------------------------------------------

def handover_of(referral):
    return db.session.execute(
        db.select(ReferralHandover).filter_by(referral_id=referral.id)).scalar_one_or_none()


def target_organisations(user):
    """Organisations a referral can be handed over to: the other field organisations of the plan."""
    return db.session.execute(db.select(Organisation).where(
        Organisation.id != user.organisation_id, Organisation.is_partner_institution.is_(False))
        .order_by(Organisation.name)).scalars().all()


def hand_over(referral, user, to_organisation_id, on):
    """Hand ``referral`` (open, of the user's organisation) over to another organisation, audited in
    both."""
    if referral is None or services.get_referral(referral.id, user) is None:
        raise Forbidden(_("Orientation d'une autre organisation."))
    if referral.status not in services.OPEN_STATES:
        raise ValidationError(
            {"to_organisation": _("Une orientation terminée ne se transmet pas.")})
    if handover_of(referral) is not None:
        raise ValidationError({"to_organisation": _("Cette orientation a déjà été transmise.")})
    target = next((o for o in target_organisations(user) if o.id == to_organisation_id), None)
    if target is None:
        raise ValidationError({"to_organisation": _("Choisissez une autre organisation du plan.")})
    on = _check_date(referral, on)
    handover = ReferralHandover(referral_id=referral.id,
                                from_organisation_id=referral.organisation_id,
                                to_organisation_id=target.id, handed_over_on=on,
                                handed_over_by_id=user.id)
    db.session.add(handover)
    db.session.flush()
    details = {"from_organisation": _org_name(referral.organisation_id),
               "to_organisation": target.name, "handed_over_on": on.isoformat()}
    # the receiving organisation's trail names the sending organisation (details), never its user
    for action, organisation_id, actor in (
            ("referral.handover_sent", referral.organisation_id, user),
            ("referral.handover_received", target.id, audit.NOBODY_HERE)):
        audit.record(action, actor=actor, target=("referral_handovers", handover.id),
                     organisation_id=organisation_id, details=details)
    return handover


def _org_name(organisation_id):
    return db.session.execute(
        db.select(Organisation.name).where(Organisation.id == organisation_id)).scalar()


def _check_date(referral, value):
    if not isinstance(value, dt.date):
        raise ValidationError({"handed_over_on": _("Date invalide (AAAA-MM-JJ).")})
    if value > services.today():
        raise ValidationError({"handed_over_on": _("La date ne peut pas être dans le futur.")})
    if value < referral.proposed_on:
        raise ValidationError({"handed_over_on": _("La date ne peut pas précéder la proposition.")})
    return value


def _received_query(user):
    if user.organisation_id is None or user.role not in services.PERSON_LEVEL_ROLES:
        raise Forbidden(_("Accès réservé aux équipes de l'organisation."))
    return (db.select(ReferralHandover.id, ReferralHandover.handed_over_on, Organisation.name,
                      RefItem, Person.code,
                      *(getattr(Referral, column) for _s, column in STEP_DATES), Referral.status)
            .join(Referral, Referral.id == ReferralHandover.referral_id)
            .join(Organisation, Organisation.id == ReferralHandover.from_organisation_id)
            .join(RefItem, RefItem.id == Referral.programme_id)
            .outerjoin(Person, Person.id == Referral.person_id)
            .where(ReferralHandover.to_organisation_id == user.organisation_id))


def _received(row, user):
    handover_id, on, org, programme, code, *dates, status = row
    steps = tuple((s, day) for (s, _c), day in zip(STEP_DATES, dates, strict=True)
                  if day is not None)
    seen = dict(person_status(code, user)) if code else {"known": False, "last_seen_on": None,
                                                          "last_seen_team": None}
    if seen["last_seen_on"]:
        seen["last_seen_on"] = dt.date.fromisoformat(seen["last_seen_on"])
    return Received(handover_id, on, org, programme.display_label, status, steps,
                    code[:services.SHORT_CODE].upper() if code else None, seen)


def received(user):
    """Referrals handed over to the user's organisation, the latest first."""
    query = _received_query(user).order_by(ReferralHandover.handed_over_on.desc(),
                                           ReferralHandover.id.desc())
    return [_received(row, user) for row in db.session.execute(query)]


def get_received(handover_id, user):
    """One referral handed over to the user's organisation, else None (answered 404)."""
    row = db.session.execute(
        _received_query(user).where(ReferralHandover.id == handover_id)).first()
    return _received(row, user) if row else None


def received_count(user):
    if user.organisation_id is None or user.role not in services.PERSON_LEVEL_ROLES:
        return 0
    return db.session.execute(db.select(db.func.count(ReferralHandover.id))
                              .where(ReferralHandover.to_organisation_id
                                     == user.organisation_id)).scalar()


# --- views ----------------------------------------------------------------------------------------

def _posted_date(form):
    raw = (form.get("handed_over_on") or "").strip()
    if not raw:
        return services.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _posted_org(form):
    raw = (form.get("to_organisation") or "").strip()
    return int(raw) if raw.isdigit() else None


@bp.post("/<referral_id>/transmettre")
def hand_over_view(referral_id):
    referral = services.get_referral(referral_id,
                                     current_user) if current_user.organisation_id else None
    if referral is None:
        abort(404)
    _done, refused = attempt(
        lambda: hand_over(referral, current_user, _posted_org(request.form),
                          _posted_date(request.form)),
        lambda errors, _status: _refused(referral_id, errors), "to_organisation")
    if refused:
        return refused
    db.session.commit()
    flash(
        _("Orientation transmise : l'autre organisation voit l'orientation, le code et la dernière "
          "rencontre, rien d'autre."), "success")
    return redirect(url_for("referrals.show", referral_id=referral_id, _anchor="handover"))


def _refused(referral_id, errors):
    flash(errors_text(errors), "error")
    return redirect(url_for("referrals.show", referral_id=referral_id, _anchor="handover")), 303


def _received_or_403():
    try:
        return received(current_user)
    except Forbidden:
        abort(403)


@bp.get("/recues")
def received_index():
    return render_template("referrals/received.html", rows=_received_or_403(),
                           status_labels=REFERRAL_STATUS)


@bp.get("/recues/<int:handover_id>")
def received_show(handover_id):
    try:
        item = get_received(handover_id, current_user)
    except Forbidden:
        abort(403)
    if item is None:
        abort(404)
    return render_template("referrals/received_show.html", item=item, status_labels=REFERRAL_STATUS)


@bp.app_context_processor
def _helpers():
    def handover_panel(referral):
        """What the referral page shows: to whom it was handed over, or the form to hand it over."""
        if not can_see(referral, current_user):
            return None
        done = handover_of(referral)
        return {"done": done, "targets": [] if done else target_organisations(current_user),
                "open": referral.status in services.OPEN_STATES, "today": services.today()}
    return {"handover_panel": handover_panel,
            "received_count": lambda: received_count(current_user)}
