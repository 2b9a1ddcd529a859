"""Thin views: the list of open referrals, one referral's page, and the step form (plain POST)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..labels import REFERRAL_STATUS
from ..reference import services as reference
from ..shifts.services import local_clock
from ..views import attempt
from . import bp, forms, services

STATUS_LABELS = REFERRAL_STATUS


def _labels():
    return {"status_labels": STATUS_LABELS, "stale_days": services.STALE_DAYS, "clock": local_clock}


def _referral_or_404(referral_id):
    try:
        referral = services.get_referral(referral_id, current_user)
    except Forbidden:
        abort(403)
    if referral is None:
        abort(404)
    return referral


@bp.get("/")
def index():
    errors, rows, ended, programme_id, status = {}, [], [], None, None
    try:
        programme_id, status = forms.list_filters(request.args)
        rows = services.open_referrals(current_user, programme_id, status)
        ended = services.recently_ended(current_user)
    except ValidationError as exc:
        errors = exc.errors
    except Forbidden:
        abort(403)
    return render_template("referrals/index.html", rows=rows, ended=ended,
                           recent_days=services.RECENT_DAYS,
                           errors=errors, programmes=reference.items("programme"),
                           programme=request.args.get("programme") or "", status=status,
                           open_states=services.OPEN_STATES,
                           **_labels()), \
        400 if errors else 200


@bp.get("/<referral_id>")
def show(referral_id):
    return _page(_referral_or_404(referral_id))


def _page(referral, errors=None, status=200, posted=None):
    steps = [(step, services.reason_choices(step)) for step in services.next_steps(referral)]
    return render_template("referrals/show.html", referral=referral, steps=steps,
                           errors=errors or {}, posted=posted or {}, today=services.today(),
                           can_undo=services.can_undo(referral, current_user),
                           code_short=services.short_code(referral.person), **_labels()), status


def _attempt(referral, write, field):
    """(result of ``write`` flushed, None), or (None, the page naming what was refused) with nothing
    written."""
    return attempt(write, lambda errors, status: _page(referral, errors, status, request.form),
                   field)


@bp.post("/<referral_id>/etapes")
def advance(referral_id):
    referral = _referral_or_404(referral_id)
    try:
        data = forms.step_data(request.form)
    except ValidationError as exc:
        return _page(referral, exc.errors, 422, request.form)
    if services.is_replay(referral, data["status"], data["occurred_on"], data["reason_id"]):
        flash(_("Cette étape était déjà enregistrée."), "success")
        return redirect(url_for("referrals.show", referral_id=referral.id))
    _event, refused = _attempt(
        referral, lambda: services.advance_referral(referral, current_user, **data), "status")
    if refused:
        return refused
    db.session.commit()
    flash(_("Orientation hébergement %(programme)s : %(step)s le %(day)s.",
            programme=referral.programme.display_label,
            step=STATUS_LABELS[referral.status].lower(), day=_day(referral)), "success")
    return redirect(url_for("referrals.index"))


@bp.post("/<referral_id>/annuler-etape")
def undo(referral_id):
    referral = _referral_or_404(referral_id)
    restored, refused = _attempt(referral, lambda: services.undo_last_step(
        referral, current_user, request.form.get("undo_reason")), "undo_reason")
    if refused:
        return refused
    db.session.commit()
    flash(_("Dernière étape annulée : l'orientation est de nouveau « %(state)s ».",
            state=STATUS_LABELS[restored].lower()), "success")
    return redirect(url_for("referrals.show", referral_id=referral.id))


def _day(referral):
    return format_date(services.last_step_on(referral))
