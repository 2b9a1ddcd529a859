from flask import (
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from .. import contract
from ..access import get_scoped
from ..database import constraint_of, integrity_message
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import db
from ..models import Contact
from ..pseudonyms import inputs as code_inputs
from ..reference import services as reference
from ..shifts.services import is_uuid, local_clock, open_shift_for
from ..views import attempt
from . import bp, forms, lookups, services, tally

LISTS = ("living_situation", "product", "need", "material", "destination", "programme")


@bp.app_context_processor
def code_inputs_definition():
    """The code inputs' one definition, for the forms and the privacy page."""
    return {"code_inputs": code_inputs}


def sector_choices(shift):
    """The shift's team's sectors (plus any other sector the shift covers) and the default one."""
    if shift is None:
        return [], None
    extra = [s for s in shift.sectors if s not in shift.team.sectors]
    default = shift.sectors[0] if shift.sectors else None
    return [s for s in shift.team.sectors if s.is_active] + extra, default


def form_context(shift):
    lists = {kind: reference.items(kind) for kind in LISTS}
    if shift is not None:
        lists["material"] = services.order_by_use(lists["material"], shift.team_id, shift.shift_on)
    undo = session.get("undo_contact")
    sectors, default_sector = sector_choices(shift)
    return {"lists": lists, "sexes": contract.SEXES, "age_bands": contract.AGE_BANDS,
            "contract": contract, "undo_id": undo,
            "plan_salt": current_app.config["PLAN_SALT"], "sector_choices": sectors,
            "default_sector": default_sector}


def _tally_group(shift, state):
    """The group the last taps counted (kept in the session), while it is an anonymous passage of
    the shift."""
    contact = _contact_or_none(state.get("group"))
    return (contact if contact is not None and contact.shift_id == shift.id
            and contact.kind == "anonymous" else None)


def tally_context(shift, materials):
    if shift is None:
        return None
    state = session.get("tally") or {}
    material = tally.tally_material(materials)
    group = _tally_group(shift, state)
    people, quantity = tally.counts_of(group, material) if group else (0, 0)
    said = state.pop("said", "")
    session["tally"] = state
    return {"material": material, "group": group, "people": people, "quantity": quantity,
            "said": said, "undo": state.get("undo"), "totals": tally.totals(shift, material)}


def _error_page(errors, status):
    from ..shifts.views import _page
    body, _status = _page(errors, status)
    return body, status


def _existing(contact_id):
    """The contact already stored under a posted id (a double tap, a resent form), if any."""
    return db.session.get(Contact, contact_id) if contact_id and is_uuid(contact_id) else None


@bp.post("/maraude/contacts")
def new():
    shift = open_shift_for(current_user)
    if shift is None or request.form.get("shift_id", shift.id) != shift.id:
        return _error_page({"shift_id": _("Aucune maraude ouverte.")}, 409)
    posted_id = request.form.get("id")
    # the shift held for the save (record_contact takes no second lock) and whether the posted id
    # is taken: one statement, as the API's save
    shift, stored = services.shift_for_save(shift.id, posted_id if is_uuid(posted_id) else None)
    if shift is None:  # deleted meanwhile
        return _error_page({"shift_id": _("Aucune maraude ouverte.")}, 409)
    existing = _existing(posted_id) if stored else None
    if existing is not None and existing.shift_id == shift.id:
        flash(_("Contact enregistré."), "contact")
        return redirect(url_for("shifts.current") + "#contact-form")
    if existing is not None:
        return _error_page({"id": services.DUPLICATE_ID}, 409)
    try:
        contact = services.insert_contact(shift, current_user,
                                          forms.contact_data(request.form, shift))
        db.session.flush()
    # the same id posted twice at once, or another constraint: say which
    except IntegrityError as exc:
        db.session.rollback()
        if _existing(request.form.get("id")) is None:
            current_app.logger.error("contact insert refused: %s", constraint_of(exc))
            return _error_page({"id": integrity_message(exc)}, 409)
        return _error_page({"id": services.DUPLICATE_ID}, 409)
    except ValidationError as exc:
        db.session.rollback()
        return _error_page(exc.errors, 422)
    except Forbidden as exc:
        db.session.rollback()
        return _error_page({"shift_id": str(exc)}, 403)
    contact_id = contact.id  # read before the commit expires it (no re-read of the contact)
    db.session.commit()
    session["undo_contact"] = contact_id
    flash(_("Contact enregistré."), "contact")
    return redirect(url_for("shifts.current") + "#contact-form")


@bp.post("/maraude/contacts/<contact_id>/undo")
def undo(contact_id):
    contact = _contact_or_none(contact_id)
    if contact is None:
        return _error_page({"undo": _("Contact inconnu.")}, 404)
    try:
        services.delete_contact(contact, current_user)
    except Forbidden:
        return _error_page({"undo": _("Annulation impossible (délai dépassé).")}, 403)
    db.session.commit()
    session.pop("undo_contact", None)
    flash(_("Contact annulé."), "contact")
    return redirect(url_for("shifts.current") + "#contact-form")


@bp.post("/maraude/person")
def lookup():
    """Known or new for a stage-1 digest (never the inputs); only date and team cross
    organisations."""
    payload = request.get_json(silent=True) or {}
    digest = payload.get("digest") if isinstance(payload, dict) else None
    try:
        status = lookups.look_up_person(current_user, open_shift_for(current_user), digest)
    except ValidationError as exc:
        return jsonify(errors=exc.errors), 422
    except Conflict as exc:
        return jsonify(errors={"shift_id": str(exc)}), 409
    except lookups.TooManyLookups as exc:
        db.session.commit()  # the alert
        return jsonify(errors={"digest": str(exc)}), 429
    db.session.commit()
    return jsonify(status)


# --- editing a contact (open or closed, not validated, shift of the organisation) -----------------

def _contact_or_none(contact_id):
    if not is_uuid(contact_id):
        return None
    return get_scoped(Contact, contact_id)


def _stored_values(contact):
    return {"kind": contact.kind, "people_count": contact.people_count,
            "occurred_at": local_clock(contact.occurred_at),
            "sector": contact.sector.code if contact.sector else None, "sex": contact.sex,
            "age_band": contact.age_band,
            "living_situation": contact.living_situation.code if contact.living_situation else None,
            "products": {i.code for i in contact.products},
            "needs": {i.code for i in contact.needs},
            "materials": {m.material.code: m.quantity for m in contact.materials},
            "orientations": {o.destination.code: o.is_accompanied for o in contact.orientations},
            "referrals": {r.programme.code for r in contact.referrals}}


def _posted_values(form):
    """What was posted, to show it again next to the errors (never the raw code inputs)."""
    def picked(prefix):
        return {name[len(prefix):]: form[name] for name in form if name.startswith(prefix)
                and form[name]}
    orientations = {code: False for code in picked("orientation-")}
    orientations.update({code: True for code in picked("accompanied-")})
    return {"kind": form.get("kind"), "people_count": form.get("people_count"),
            "occurred_at": form.get("occurred_at"), "sector": form.get("sector"),
            "sex": form.get("sex"),
            "age_band": form.get("age_band"), "living_situation": form.get("living_situation"),
            "products": set(form.getlist("products")), "needs": set(form.getlist("needs")),
            "materials": picked("material-"), "orientations": orientations,
            "referrals": set(picked("referral-"))}


def _edit_page(contact, errors=None, status=200, values=None):
    return render_template("contacts/edit.html", contact=contact, errors=errors or {},
                           v=values or _stored_values(contact),
                           **form_context(contact.shift)), status


def _not_found():
    return _error_page({"contact": _("Contact inconnu.")}, 404)


def _after_edit(shift):
    if not shift.is_open and current_user.role == "supervisor":
        return redirect(url_for("review.shift", shift_id=shift.id))
    return redirect(url_for("shifts.current") + "#contacts")


def _editable(contact_id):
    """(contact, None) when the current user may edit it, else (None, the error page)."""
    contact = _contact_or_none(contact_id)
    if contact is None:
        return None, _not_found()
    try:
        services.check_editable(contact, current_user)
    except Forbidden as exc:
        return None, _error_page({"contact": str(exc)}, 403)
    return contact, None


@bp.get("/maraude/contacts/<contact_id>")
def edit(contact_id):
    contact, refused = _editable(contact_id)
    return refused or _edit_page(contact)


@bp.post("/maraude/contacts/<contact_id>")
def update(contact_id):
    contact, refused = _editable(contact_id)
    if refused:
        return refused
    try:
        data = forms.contact_data(request.form, contact.shift)
        services.update_contact(contact, current_user, data)
        db.session.flush()
    except ValidationError as exc:
        db.session.rollback()
        return _edit_page(db.session.get(Contact, contact_id), exc.errors, 422,
                          _posted_values(request.form))
    except Forbidden as exc:
        db.session.rollback()
        return _error_page({"contact": str(exc)}, 403)
    shift = contact.shift
    db.session.commit()
    flash(_("Contact modifié."))
    return _after_edit(shift)


@bp.post("/maraude/contacts/<contact_id>/supprimer")
def remove(contact_id):
    contact = _contact_or_none(contact_id)
    if contact is None:
        return _not_found()
    try:
        services.remove_contact(contact, current_user)
    except Forbidden as exc:
        return _error_page({"contact": str(exc)}, 403)
    db.session.commit()
    if session.get("undo_contact") == contact_id:
        session.pop("undo_contact", None)
    flash(_("Contact supprimé."))
    return redirect(url_for("shifts.current") + "#contacts")


# --- the tally (compteur): one tap, one idempotent record (outreach/contacts/tally.py) ------------

def _said(key):
    return {"saved": _("Enregistré."), "undone": _("Annulé.")}[key]


def _tally_material(shift):
    return tally.tally_material(
        services.order_by_use(reference.items("material"), shift.team_id, shift.shift_on))


def _new_group(shift, form, data):
    """A group or a refusal under the form's id; a resent form finds it stored and adds nothing."""
    existing = _existing(form.get("id"))
    if existing is not None:
        if existing.shift_id != shift.id:
            raise ValidationError({"id": services.DUPLICATE_ID})
        return existing
    _, default_sector = sector_choices(shift)
    data.update(id=form.get("id") or None, sector_id=default_sector.id if default_sector else None)
    return services.record_contact(shift, current_user, data)


def _tap(shift, form, material, state):
    """Apply one tap of the plain form; returns what undoes it."""
    group = _tally_group(shift, state)
    number = forms.parse_int(
        form, next((n for n in ("people", "people_count", "quantity") if form.get(n)), "x"))
    if form.get("kind") == "refusal":
        contact = _new_group(shift, form, tally.group_data("refusal", 1))
        state["group"] = None
        return {"id": contact.id, "created": True}
    if form.get("people") or (form.get("quantity") and group is None):
        people, quantity = (number, 0) if form.get("people") else (1, number)
        contact = _new_group(shift, form, tally.group_data("anonymous", people, material, quantity))
        state["group"] = contact.id
        return {"id": contact.id, "created": True}
    if group is None:
        raise ValidationError({"people_count": _("Comptez d'abord un passage.")})
    people, quantity = tally.counts_of(group, material)
    if form.get("people_count"):
        tally.set_counts(group, current_user, people_count=number)
    else:
        tally.set_counts(group, current_user, material=material, quantity=number)
    return {"id": group.id, "people": people, "quantity": quantity}


def _undo_tap(shift, material, state):
    undo = state.get("undo") or {}
    contact = _contact_or_none(undo.get("id"))
    if contact is None or contact.shift_id != shift.id:
        return
    if undo.get("created"):
        services.delete_contact(contact, current_user)
        state["group"] = None
    else:
        tally.set_counts(contact, current_user, people_count=undo["people"], material=material,
                         quantity=undo["quantity"])


@bp.get("/maraude/compteur", endpoint="tally_page")
def tally_page():
    shift = open_shift_for(current_user)
    if shift is None:
        return redirect(url_for("shifts.current"))
    _, default_sector = sector_choices(shift)
    return render_template("contacts/tally.html", shift=shift, default_sector=default_sector,
                           tally=lambda: tally_context(shift, [_tally_material(shift)]))


@bp.post("/maraude/compteur", endpoint="tally")
def tally_tap():
    """The tally without JavaScript: the tapped button names the number to reach."""
    shift = open_shift_for(current_user)
    if shift is None:
        return _error_page({"shift_id": _("Aucune maraude ouverte.")}, 409)
    state, material = dict(session.get("tally") or {}), _tally_material(shift)

    def write():
        if request.form.get("undo"):
            _undo_tap(shift, material, state)
            state.update(undo=None, said=_said("undone"))
        else:
            state.update(undo=_tap(shift, request.form, material, state), said=_said("saved"))
    _done, refused = attempt(write, _error_page, "tally")
    if refused:
        return refused
    db.session.commit()
    session["tally"] = state
    return redirect(url_for("contacts.tally_page"))


def _material(code):
    if code is None:
        return None
    material_id = reference.codes_to_ids("material").get(code) if isinstance(code, str) else None
    material = reference.by_ids("material", [material_id]).get(material_id) if material_id else None
    if material is None:
        raise ValidationError({"material": _("Valeur inconnue.")})
    return material


@bp.post("/maraude/compteur/<contact_id>")
def tally_set(contact_id):
    """A tap sent by the phone's queue (JSON): set a group's numbers, or remove it (undo).
    Idempotent."""
    body = request.get_json(silent=True)
    # first: another organisation's id is unknown, whatever is sent
    contact = _contact_or_none(contact_id)
    if not isinstance(body, dict):
        if contact is None:
            return jsonify(errors={"id": _("Contact inconnu.")}), 404
        return jsonify(errors={"_": _("Requête JSON attendue.")}), 400
    removed = body.get("removed") is True
    if contact is None and not removed:
        return jsonify(errors={"id": _("Contact inconnu.")}), 404

    def write():
        if not removed:
            tally.set_counts(contact, current_user, body.get("people_count"),
                             _material(body.get("material")), body.get("quantity"))
        elif contact is not None:  # else already gone: the same undo sent again
            services.delete_contact(contact, current_user)
    _done, refused = attempt(write, lambda errors, status: (jsonify(errors=errors), status),
                             "contact")
    if refused:
        return refused
    db.session.commit()
    return jsonify(id=contact_id, removed=contact is None or body.get("removed") is True)
