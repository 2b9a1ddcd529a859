from flask import current_app, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..models import AGE_BANDS, SEXES, Contact
from ..pseudonyms import services as pseudonyms
from ..reference import services as reference
from ..shifts.services import open_shift_for
from . import bp, forms, services

LISTS = ("living_situation", "product", "need", "material", "destination", "programme")


def form_context(shift):
    lists = {kind: reference.items(kind) for kind in LISTS}
    undo = session.get("undo_contact")
    return {"lists": lists, "sexes": SEXES, "age_bands": AGE_BANDS, "undo_id": undo,
            "plan_salt": current_app.config["PLAN_SALT"]}


def _error_page(errors, status):
    from ..shifts.views import _page
    body, _status = _page(errors, status)
    return body, status


@bp.post("/maraude/contacts")
def new():
    shift = open_shift_for(current_user)
    if shift is None or request.form.get("shift_id", shift.id) != shift.id:
        return _error_page({"shift_id": _("Aucune maraude ouverte.")}, 409)
    try:
        contact = services.record_contact(shift, current_user, forms.contact_data(request.form, shift))
        db.session.flush()
    except ValidationError as exc:
        db.session.rollback()
        return _error_page(exc.errors, 422)
    except Forbidden as exc:
        db.session.rollback()
        return _error_page({"shift_id": str(exc)}, 403)
    db.session.commit()
    session["undo_contact"] = contact.id
    flash(_("Contact enregistré."))
    return redirect(url_for("shifts.current") + "#contact-form")


@bp.post("/maraude/contacts/<contact_id>/undo")
def undo(contact_id):
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.organisation_id != current_user.organisation_id:
        return _error_page({"undo": _("Contact inconnu.")}, 404)
    try:
        services.delete_contact(contact, current_user)
    except Forbidden:
        return _error_page({"undo": _("Annulation impossible (délai dépassé).")}, 403)
    db.session.commit()
    session.pop("undo_contact", None)
    flash(_("Contact annulé."))
    return redirect(url_for("shifts.current"))


@bp.post("/maraude/person")
def lookup():
    """Known or new for a stage-1 digest (never the inputs); only date and team cross organisations."""
    payload = request.get_json(silent=True) or {}
    try:
        code = pseudonyms.code_from_digest(payload.get("digest") if isinstance(payload, dict) else None)
    except ValidationError as exc:
        return jsonify(errors=exc.errors), 422
    return jsonify(pseudonyms.person_status(code, current_user))
