"""Write API for the offline client: shifts and encounters as JSON with codes, idempotent by client
UUID.

The first POST of an ``id`` answers 201; a replay answers 200 with the stored record, never a second
row (a racing duplicate insert is caught as IntegrityError, rolled back, and the stored row
returned).
"""
import datetime as dt
import uuid

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError

from .. import contract
from ..access import allow, can_see, get_scoped
from ..contacts import services as contacts
from ..database import constraint_of, integrity_message, is_unique_violation
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import csrf, db
from ..models import Contact, RefItem, Sector, Shift
from ..offline import clock
from ..reference import services as reference
from ..referrals import services as referrals
from ..security import is_token_request
from ..shifts import services as shifts
from . import bp

WRITERS = ("worker", "supervisor")
csrf.exempt(bp)


@bp.before_request
def _csrf_for_sessions():
    if request.method == "POST" and not is_token_request():
        csrf.protect()


@bp.errorhandler(CSRFError)
def _csrf_failed(error):
    return jsonify(errors={"csrf": _("Jeton CSRF manquant ou invalide.")}), 400


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"body": _("Objet JSON attendu.")})
    return data


def _uuid(value, field="id", required=True):
    if value is None and not required:
        return None
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else _bad(field, _("UUID attendu."))
    except ValueError:
        return _bad(field, _("UUID attendu."))


def _bad(field, message):
    raise ValidationError({field: message})


def _when(data, field):
    """Naive UTC of an ISO 8601 date and time; without a zone it is Paris time (the contact
    contract's rule)."""
    value = data.get(field)
    return None if value is None else contract.parse_datetime(value, field)


def _int(data, field, default, low=0, high=10000):
    value = data.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _bad(field, _("Nombre entier attendu."))
    return value


def _codes(kind, values, field):
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        _bad(field, _("Liste de codes attendue."))
    ids = _code_map(kind)
    if any(v not in ids for v in values):
        _bad(field, _("Code inconnu."))
    return [ids[v] for v in values]


def _code(kind, value, field):
    if value is None:
        return None
    if not isinstance(value, str):
        _bad(field, _("Code attendu."))
    return _codes(kind, [value], field)[0]


def _code_map(kind):
    # this process's copy of the lists (no SQL while none changed)
    return reference.codes_to_ids(kind)


def _quantities(kind, values, field):
    """{id: quantity} of a shift's {code: quantity} stock (a contact's material: ``_materials``)."""
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(
            isinstance(q, int) and not isinstance(q, bool) and 0 <= q <= 10000
            for q in values.values()):
        _bad(field, _("Objet {code: quantité} attendu."))
    ids = _codes(kind, list(values), field)
    return dict(zip(ids, values.values()))


def _materials(values):
    """A contact's material: {code: quantity} with the contract's bounds (checked by the
    service)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        _bad("materials", _("Objet {code: quantité} attendu."))
    return dict(zip(_codes("material", list(values), "materials"), values.values()))


def _optional_bool(data, field):
    value = data.get(field)
    if value is not None and not isinstance(value, bool):
        _bad(field, _("Booléen attendu."))
    return value


# --- shifts ---------------------------------------------------------------------------------------

def _team_id(code):
    if not isinstance(code, str):
        _bad("team", _("Code d'équipe attendu."))
    team = next((t for t in current_user.teams if t.code == code), None)
    return team.id if team else _bad("team", _("Équipe inconnue ou dont vous n'êtes pas membre."))


def shift_data(data):
    return {"id": _uuid(data.get("id")), "team_id": _team_id(data.get("team")),
            "started_at": _when(data, "started_at"),
            "sector_ids": _codes("sector", data.get("sectors"), "sectors"),
            "staff_count": _int(data, "staff_count", 1, 1, 50),
            "stock_out": _quantities("material", data.get("stock_out"), "stock_out")}


def close_data(data):
    unapproached = data.get("unapproached") or {}
    if not isinstance(unapproached, dict):
        _bad("unapproached", _("Objet {f, m, x} attendu."))
    ambiance = data.get("ambiance")
    if ambiance is not None and not isinstance(ambiance, str):
        _bad("ambiance", _("Ambiance inconnue."))
    return {"ended_at": _when(data, "ended_at"), "ambiance": ambiance,
            "police_presence": _optional_bool(data, "police_presence"),
            "unapproached_women": _int(unapproached, "f", 0),
            "unapproached_men": _int(unapproached, "m", 0),
            "unapproached_other": _int(unapproached, "x", 0),
            "used_material_collected": _int(data, "used_material_collected", 0),
            "stock_back": _quantities("material", data.get("stock_back"), "stock_back")}


def _iso(value):
    return value.isoformat() + "Z" if value else None


def shift_json(shift):
    return {"id": shift.id, "team": shift.team.code, "status": shift.status,
            "started_at": _iso(shift.started_at), "ended_at": _iso(shift.ended_at),
            "shift_on": shift.shift_on.isoformat(), "sectors": [s.code for s in shift.sectors],
            "staff_count": shift.staff_count,
            "stock_out": {row.material.code: row.taken_out for row in shift.stock if row.taken_out}}


def _own_shift(shift_id):
    return get_scoped(Shift, shift_id)


def _stored(model, record_id, to_json):
    record = get_scoped(model, record_id)
    if record is None:
        return jsonify(errors={"id": _("Identifiant déjà utilisé.")}), 409
    return jsonify(to_json(record)), 200


def _create(model, record_id, build, to_json, stored=None):
    """Idempotent create: replay -> 200 stored; race on the primary key -> rollback, 200 stored.
    ``stored``: whether the caller already knows the id is taken (None: look it up). The answer is
    built once the record is flushed, before the commit expires it (no re-read of what was
    saved)."""
    if stored if stored is not None else db.session.get(model, record_id) is not None:
        return _stored(model, record_id, to_json)
    try:
        record = build()
        db.session.flush()
        answer = to_json(record)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        # not a replay racing this one: another constraint
        if db.session.get(model, record_id) is None:
            current_app.logger.error("%s insert refused: %s", model.__tablename__,
                                     constraint_of(exc))
            # a concurrent write took the same key: the same request succeeds later
            if is_unique_violation(exc):
                return _busy()
            return jsonify(errors={"id": integrity_message(exc)}), 409
        return _stored(model, record_id, to_json)
    return jsonify(answer), 201


def _busy():
    """503 with Retry-After: a concurrent write collided with this one; the same request will
    succeed later."""
    response = jsonify(
        errors={"_": _("Enregistrement simultané d'un autre appareil : nouvel essai automatique.")})
    response.headers["Retry-After"] = "1"
    return response, 503


@bp.route("/api/v1/shifts", methods=["POST"])
@allow(*WRITERS)
def post_shift():
    data = shift_data(_body())
    clock.correct_phone_times(data, "started_at", ("shifts", data["id"]))
    return _create(Shift, data["id"], lambda: shifts.start_shift(current_user, data), shift_json)


@bp.route("/api/v1/shifts/<shift_id>/close", methods=["POST"])
@allow(*WRITERS)
def post_shift_close(shift_id):
    shift = _own_shift(shift_id)
    if shift is None:
        return jsonify(errors={"shift_id": _("Maraude inconnue.")}), 404
    data = clock.correct_phone_times(close_data(_body()), "ended_at", shift)
    shifts.check_can_close(shift, current_user)
    shifts.lock_shift(shift)  # a replay racing with the first close waits for it, then answers 200
    if not shift.is_open:
        return jsonify(shift_json(shift)), 200
    shifts.close_shift(shift, current_user, data)
    db.session.commit()
    return jsonify(shift_json(shift)), 200


# --- encounters -----------------------------------------------------------------------------------

def _person(data):
    """The digest of ``person`` when one is given; whether the kind wants one is the contract's
    rule."""
    person = data.get("person")
    if person is None:
        return {}
    if not isinstance(person, dict):
        _bad("person", _("Code de la personne attendu."))
    digest = person.get("digest")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef"
                                                               for c in digest):
        _bad("person", _("Empreinte SHA-256 (64 caractères hexadécimaux) attendue."))
    return {"digest": digest, "is_weak": bool(person.get("weak"))}


def _orientations(values):
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        _bad("orientations", _("Liste d'orientations attendue."))
    ids = _codes("destination", [v.get("destination") for v in values], "orientations")
    return [(i, bool(v.get("accompanied"))) for i, v in zip(ids, values)]


def _programmes(values):
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        _bad("referrals", _("Liste d'orientations d'hébergement attendue."))
    return _codes("programme", [v.get("programme") for v in values], "referrals")


def _choice(data, field):
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        _bad(field, _("Valeur inconnue."))
    return value


def encounter_data(data):
    """Service data of an encounter; kinds, people count, person and material follow the contact
    contract."""
    kind = contract.check_kind(data.get("kind"))
    person = _person(data)
    return {"id": _uuid(data.get("id")), "occurred_at": _when(data, "occurred_at"),
            "sector_id": _code("sector", data.get("sector"), "sector"), "kind": kind, **person,
            "people_count": contract.check_contact(kind, bool(person), data.get("people_count")),
            "sex": contract.check_choice("sex", _choice(data, "sex")),
            "age_band": contract.check_choice("age_band", _choice(data, "age_band")),
            "living_situation_id": _code("living_situation", data.get("living_situation"),
                                         "living_situation"),
            "product_ids": _codes("product", data.get("products"), "products"),
            "need_ids": _codes("need", data.get("needs"), "needs"),
            "materials": _materials(data.get("materials")),
            "orientations": _orientations(data.get("orientations")),
            "referral_programme_ids": _programmes(data.get("referrals"))}


def encounter_json(contact):
    person = contact.person
    seen = person.last_seen_team if person else None
    return {"id": contact.id, "shift_id": contact.shift_id, "kind": contact.kind,
            "occurred_at": _iso(contact.occurred_at),
            "sector": contact.sector.code if contact.sector else None,
            "people_count": contact.people_count,
            "person": {"known": person is not None,
                       "last_seen_on": (person.last_seen_on.isoformat()
                                        if person and person.last_seen_on else None),
                       "last_seen_team": seen.name if seen else None},
            "orientations": [{"id": o.id, "destination": reference.code_of(o.destination_id),
                              "accompanied": o.is_accompanied}
                             for o in sorted(contact.orientations, key=lambda o: o.id)],
            "referrals": [
                {"id": r.id, "programme": reference.code_of(r.programme_id), "status": r.status,
                 "steps_url": f"/api/v1/referrals/{r.id}/steps"}
                for r in sorted(contact.referrals, key=lambda r: (r.proposed_on, r.id))]}


@bp.route("/api/v1/encounters", methods=["POST"])
@allow(*WRITERS)
def post_encounter():
    body = _body()
    data = encounter_data(body)
    clock.correct_phone_times(data, "occurred_at", ("contacts", data["id"]))
    # the shift, held for the save, and whether this id is a replay: one statement
    shift, stored = contacts.shift_for_save(_uuid(body.get("shift_id"), "shift_id"), data["id"])
    if not stored and (shift is None or not can_see(shift)):
        _bad("shift_id", _("Maraude inconnue."))
    return _create(Contact, data["id"], lambda: contacts.insert_contact(shift, current_user, data),
                   encounter_json, stored)


@bp.route("/api/v1/encounters/<contact_id>", methods=["GET"])
@allow(*WRITERS)
def get_encounter(contact_id):
    contact = get_scoped(Contact, contact_id)
    if contact is None:
        return jsonify(errors={"id": _("Contact inconnu.")}), 404
    return jsonify(encounter_json(contact))


# --- reference lists ------------------------------------------------------------------------------

REF_KINDS = ("living_situation", "product", "need", "material", "destination", "programme",
             "refusal_reason", "exit_reason")


@bp.route("/api/v1/reference", methods=["GET"])
@allow(*WRITERS)
def get_reference():
    items = db.session.execute(db.select(RefItem).filter_by(is_active=True)
                               .order_by(RefItem.kind, RefItem.position, RefItem.id)).scalars()
    lists = {kind: [] for kind in REF_KINDS}
    for item in items:
        lists.setdefault(item.kind, []).append(_labels(item))
    teams = [{"code": t.code, "name": t.name, "sectors": [s.code for s in t.sectors]}
             for t in current_user.teams]
    sectors = db.session.execute(
        db.select(Sector).filter_by(is_active=True).order_by(Sector.position)).scalars()
    return jsonify(teams=teams, sectors=[_labels(s) for s in sectors], lists=lists)


def _labels(item):
    """Code, French label and English label (null when none was entered: show the French one)."""
    return {"code": item.code, "label": item.label, "label_en": item.label_en}


# --- referral steps (idempotent by step: a referral passes each state at most once) ---------------

def _day(data, field):
    value = data.get(field)
    try:
        return (dt.date.fromisoformat(value) if isinstance(value, str)
                else _bad(field, _("Date AAAA-MM-JJ attendue.")))
    except ValueError:
        return _bad(field, _("Date AAAA-MM-JJ attendue."))


def step_data(data):
    status, reason = data.get("status"), data.get("reason")
    if status not in referrals.STEPS:
        _bad("status", _("Étape inconnue (accepted, refused, admitted ou exited)."))
    kind = referrals.REASON_KINDS.get(status)
    if reason is not None and (kind is None or not isinstance(reason, str)):
        _bad("reason", _("Cette étape ne prend pas de motif.") if kind is None
             else _("Code de motif attendu."))
    reason_id = _code_map(kind).get(reason, -1) if reason is not None else None
    if reason_id == -1:
        _bad("reason", _("Motif inconnu pour cette étape."))
    return {"status": status, "occurred_on": _day(data, "occurred_on"), "reason_id": reason_id}


def referral_json(referral):
    return {"id": referral.id, "programme": referral.programme.code, "status": referral.status,
            "steps": [{"status": e.status, "occurred_on": e.occurred_on.isoformat(),
                       "reason": e.reason.code if e.reason else None} for e in referral.events]}


def _step_replay(referral, data):
    """200 when this step is already stored with the same date and reason, 409 when it differs, else
    None."""
    stored = next((e for e in referral.events if e.status == data["status"]), None)
    if stored is None:
        return None
    if (stored.occurred_on, stored.reason_id) == (data["occurred_on"], data["reason_id"]):
        return jsonify(referral_json(referral)), 200
    return jsonify(
        errors={"status": _("Étape déjà enregistrée avec une autre date ou un autre motif.")}), 409


@bp.route("/api/v1/referrals/<referral_id>/steps", methods=["POST"])
@allow(*WRITERS)
def post_referral_step(referral_id):
    referral = referrals.get_referral(referral_id, current_user)
    # before reading the body: another organisation's id is answered as an unknown one
    if referral is None:
        return jsonify(errors={"referral_id": _("Orientation inconnue.")}), 404
    data = step_data(_body())
    replay = _step_replay(referral, data)
    if replay is not None:
        return replay
    try:
        referrals.advance_referral(referral, current_user, **data)
        db.session.commit()
    # a concurrent request moved it first: a replay of the same step still answers 200
    except Conflict:
        db.session.rollback()
        return (_step_replay(referral, data)
                or (jsonify(errors={"status": _("Orientation modifiée entre-temps.")}), 409))
    return jsonify(referral_json(referral)), 201


@bp.errorhandler(ValidationError)
def _invalid(error):
    db.session.rollback()
    return jsonify(errors=error.errors), 422


@bp.errorhandler(Conflict)
def _conflict(error):
    db.session.rollback()
    return jsonify(errors={"id": str(error)}), 409


@bp.errorhandler(Forbidden)
def _forbidden(error):
    db.session.rollback()
    return jsonify(errors={"shift_id": str(error)}), 403
