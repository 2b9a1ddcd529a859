from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..access import get_scoped, scoped
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import db
from ..models import Contact, Shift
from ..reference import services as reference
from . import bp, forms, services


def _contacts(shift):
    """The shift's contacts, most recent first (with their person and material for the list)."""
    if shift is None:
        return []
    return db.session.execute(scoped(db.select(Contact).filter_by(shift_id=shift.id), Contact)
        .options(db.selectinload(Contact.person), db.selectinload(Contact.materials))
        .order_by(Contact.occurred_at.desc())).scalars().all()


def _page(errors=None, status=200):
    shift = services.open_shift_for(current_user)
    recent = services.last_closed_shift_for(current_user) if shift is None else None
    frequent = [m for m in reference.items("material") if m.is_frequent]
    from ..contacts.views import form_context
    return render_template("shifts/current.html", shift=shift, contacts=_contacts(shift or recent),
                           recent=recent, errors=errors or {}, frequent=frequent,
                           clock=services.local_clock,
                           start=services.start_choices(current_user) if shift is None else None,
                           **form_context(shift)), status


@bp.get("/maraude")
def current():
    return _page()


@bp.post("/maraude")
def start():
    posted_id = request.form.get("id")
    if posted_id and services.is_uuid(posted_id) and db.session.get(Shift, posted_id) is not None:
        return _page({"id": services.DUPLICATE_ID}, 409)
    try:
        services.start_shift(current_user, forms.start_data(request.form, current_user))
    except ValidationError as exc:
        return _page(exc.errors, 422)
    except Conflict as exc:
        return _page({"team": str(exc)}, 409)
    try:
        db.session.commit()
    except IntegrityError:  # the same id posted twice at once
        db.session.rollback()
        return _page({"id": services.DUPLICATE_ID}, 409)
    flash(_("Maraude commencée."))
    return redirect(url_for("shifts.current"))


@bp.post("/maraude/<shift_id>/close")
def close(shift_id):
    shift = get_scoped(Shift, shift_id) if services.is_uuid(shift_id) else None
    if shift is None:
        return _page({"shift_id": _("Maraude inconnue.")}, 404)
    try:
        services.close_shift(shift, current_user, forms.close_data(request.form, shift))
    except ValidationError as exc:
        return _page(exc.errors, 422)
    except Forbidden as exc:
        return _page({"shift_id": str(exc)}, 403)
    except Conflict as exc:
        return _page({"shift_id": str(exc)}, 409)
    db.session.commit()
    flash(_("Maraude close."))
    return redirect(url_for("shifts.current"))
