from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import contract, queryargs
from ..access import get_scoped_or_404, scoped
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..labels import field_label, label
from ..models import Contact, ContactMaterial, RefItem, Sector, Team
from ..shifts.services import local_clock
from . import bp, services


def _shift_or_404(shift_id):
    shift = services.get_shift(shift_id, current_user)
    if shift is None:
        abort(404)
    return shift


def _week(value):
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return day - timedelta(days=day.weekday())


def _teams():
    return db.session.execute(scoped(db.select(Team).order_by(Team.name), Team)).scalars().all()


@bp.get("/")
def board():
    teams, code = _teams(), request.args.get("team") or None
    team = next((t for t in teams if t.code == code), None) if code else None
    # a team by its code, as on the indicator pages, the exports and the API
    if code and team is None:
        return render_template("indicators/invalid.html", errors={"team": _(
            "Code inconnu : « %(code)s ».", code=queryargs.shown_code(code))}), 400
    status = request.args.get("status") or None
    week = _week(request.args.get("week"))
    page = min(max(request.args.get("page", 1, type=int), 1), 100000)
    shifts, more = services.list_shifts(current_user, team.id if team else None, status, week, page)
    flags = services.anomalies([s.id for s in shifts])
    return render_template("review/board.html", shifts=shifts, flags=flags, teams=teams,
                           team_code=code, status=status, week=week, page=page, more=more)


@bp.get("/maraude/<shift_id>")
def shift(shift_id):
    shift = _shift_or_404(shift_id)
    return _summary_page(shift)


def _summary_page(shift, errors=None, status=200):
    contacts = db.session.execute(db.select(Contact).filter_by(shift_id=shift.id)
                                  .options(db.selectinload(Contact.materials)
                                           .joinedload(ContactMaterial.material),
                                           db.joinedload(Contact.sector))
                                  .order_by(Contact.occurred_at)).scalars().all()
    numbers = services.summary(shift)
    return render_template("review/shift.html", shift=shift, s=numbers,
                           digest=services.summary_digest(numbers),
                           contacts=contacts, clock=local_clock,
                           trail=services.trail(shift), errors=errors or {}), status


def _correction_page(contact, errors=None, status=200, posted=None):
    """One contact's correction form: each field with its own widget (a select of labels for a coded
    field)."""
    values = {**services.current_values(contact), **(posted or {})}
    return render_template("review/contact.html", contact=contact, shift=contact.shift,
                           values=values,
                           errors=errors or {}, selects=_selects(contact),
                           materials=_active(RefItem, "material"),
                           clock=local_clock, contract=contract,
                           reason_max=services.REASON_MAX), status


def _selects(contact):
    """(value posted, label shown) of every coded field: its labels, never its codes; a list's entry
    retired since the contact stays offered as its current value (posting it back changes
    nothing)."""
    selects = {field: [(code, label(family, code)) for code in services.CHOICES[field]]
               for field, family in services.CHOICE_FAMILY.items()}
    for field, items, current in (("sector_id", _active(Sector), contact.sector),
                                  ("living_situation_id", _active(RefItem, "living_situation"),
                                   contact.living_situation)):
        if current is not None and current not in items:
            items = [*items, current]
        selects[field] = [(str(item.id), item.display_label) for item in items]
    return selects


def _active(model, kind=None):
    query = db.select(model).filter(model.is_active.is_(True)).order_by(model.position, model.id)
    if kind:
        query = query.filter(model.kind == kind)
    return db.session.execute(query).scalars().all()


def _apply(shift, action, message):
    try:
        action()
    except ValidationError as exc:
        db.session.rollback()
        return _summary_page(shift, exc.errors, 422)
    # e.g. a month signed off or accepted: the page says why (signoff.check_month_open)
    except Forbidden as exc:
        db.session.rollback()
        return _summary_page(shift, {"status": str(exc)}, 403)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("review.shift", shift_id=shift.id))


@bp.post("/maraude/<shift_id>/valider")
def validate(shift_id):
    shift = _shift_or_404(shift_id)
    seen = request.form.get("summary")
    return _apply(shift, lambda: services.validate_shift(shift, current_user, seen),
                  _("Maraude validée."))


@bp.post("/maraude/<shift_id>/devalider")
def unvalidate(shift_id):
    shift = _shift_or_404(shift_id)
    reason = request.form.get("reason", "")
    return _apply(shift, lambda: services.unvalidate_shift(shift, current_user, reason),
                  _("Validation retirée."))


@bp.get("/contact/<contact_id>/corriger")
def correction(contact_id):
    return _correction_page(get_scoped_or_404(Contact, contact_id))


@bp.post("/contact/<contact_id>/corriger")
def correct(contact_id):
    contact = get_scoped_or_404(Contact, contact_id)
    form = request.form
    if "field" in form:  # one field at a time: {"field": ..., "value": ...}
        posted = {form["field"]: form.get("value", "")}
    else:
        posted = {k: v for k, v in form.items() if k in services.CORRECTABLE
                  or k.startswith("material-")}
    try:
        changed = services.correct_contact_fields(contact, current_user, posted,
                                                  form.get("reason", ""))
    except ValidationError as exc:
        db.session.rollback()
        return _correction_page(contact, exc.errors, 422, posted)
    # a validated shift (field roles), a month signed off or accepted: say why
    except Forbidden as exc:
        db.session.rollback()
        return _correction_page(contact, {"status": str(exc)}, 403, posted)
    db.session.commit()
    flash(_("Correction enregistrée : %(fields)s.",
            fields=", ".join(field_label(f) for f in changed)), "success")
    return redirect(
        url_for("review.shift", shift_id=contact.shift_id, _anchor=f"contact-{contact.id}"))


@bp.get("/semaine/<int:team_id>")
def week(team_id):
    team = get_scoped_or_404(Team, team_id)
    start = _week(request.args.get("week")) or _week(contract.local_today().isoformat())
    days = services.week_series(current_user, team_id, start)
    top = max([max(d[1] + d[2]) for d in days] + [1])
    return render_template("review/week.html", team=team, days=days, top=top, start=start)
