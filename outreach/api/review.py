"""Supervisor review through the API: read a shift and its summary digest, validate, withdraw a
validation, correct a contact. The rules, reasons and audit are the review pages'
(``outreach.review.services``): these routes only translate JSON to the same service calls.

Field names of a correction are the API's: kind, sector, people_count, sex, age_band,
living_situation, occurred_at and ``material-<code>``; values are codes, numbers or ISO date-times
as in POST /api/v1/encounters.
"""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..access import allow
from ..extensions import db
from ..models import Contact
from ..review import services as review
from . import bp
from .write import WRITERS, _bad, _body, encounter_json, shift_json

REVIEWERS = ("supervisor", "admin")
FIELDS = {"kind": "kind", "sector": "sector_id", "people_count": "people_count", "sex": "sex",
          "age_band": "age_band", "living_situation": "living_situation_id",
          "occurred_at": "occurred_at"}


def _shift_or_404(shift_id):
    return review.get_shift(shift_id, current_user)


def _unknown_shift():
    return jsonify(errors={"shift_id": _("Maraude inconnue.")}), 404


def reviewed_json(shift):
    """A shift with the digest of its summary: sent back with a validation, it refuses a stale
    reading."""
    return {**shift_json(shift), "summary_digest": review.summary_digest(review.summary(shift)),
            "validated_at": shift.validated_at.isoformat() + "Z" if shift.validated_at else None}


@bp.route("/api/v1/shifts/<shift_id>", methods=["GET"])
@allow(*WRITERS)
def get_shift(shift_id):
    shift = _shift_or_404(shift_id)
    return _unknown_shift() if shift is None else jsonify(reviewed_json(shift))


@bp.route("/api/v1/shifts/<shift_id>/validate", methods=["POST"])
@allow(*REVIEWERS)
def validate_shift(shift_id):
    shift = _shift_or_404(shift_id)
    if shift is None:
        return _unknown_shift()
    seen = _optional_body().get("summary_digest")
    if seen is not None and not isinstance(seen, str):
        _bad("summary_digest",
             _("Empreinte de la synthèse attendue (summary_digest de GET /api/v1/shifts/{id})."))
    review.validate_shift(shift, current_user, seen)
    db.session.commit()
    return jsonify(reviewed_json(shift))


@bp.route("/api/v1/shifts/<shift_id>/unvalidate", methods=["POST"])
@allow(*REVIEWERS)
def unvalidate_shift(shift_id):
    shift = _shift_or_404(shift_id)
    if shift is None:
        return _unknown_shift()
    review.unvalidate_shift(shift, current_user, _text(_body(), "reason"))
    db.session.commit()
    return jsonify(reviewed_json(shift))


@bp.route("/api/v1/encounters/<contact_id>/corrections", methods=["POST"])
@allow(*REVIEWERS)
def correct_encounter(contact_id):
    contact = db.session.get(Contact, contact_id)
    if contact is None or _shift_or_404(contact.shift_id) is None:
        return jsonify(errors={"contact_id": _("Contact inconnu.")}), 404
    data = _body()
    field = _text(data, "field")
    if field not in FIELDS and not field.startswith("material-"):
        _bad("field",
             _("Champ non corrigeable (%(fields)s ou material-<code>).", fields=", ".join(FIELDS)))
    review.correct_contact(contact, current_user, FIELDS.get(field, field), _value(data),
                           _text(data, "reason"))
    db.session.commit()
    return jsonify(encounter_json(contact))


def _optional_body():
    """The JSON object of the request, or {} when the request has no body."""
    return _body() if request.get_data() else {}


def _text(data, field):
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        _bad(field, _("Texte attendu."))
    return value


def _value(data):
    """The correction's new value as the review form sends it (text); numbers are accepted as
    such."""
    value = data.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(data, "value")
