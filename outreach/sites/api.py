"""JSON routes of sites for the phone and its offline queue: the active sites, and observations
idempotent by a client-generated UUID (a replay answers 200 with the stored record, never a second
row), as encounters."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import queryargs
from ..api.write import (
    _bad,
    _body,
    _conflict,
    _create,
    _csrf_failed,
    _csrf_for_sessions,
    _forbidden,
    _int,
    _invalid,
    _optional_bool,
    _uuid,
    _when,
)
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import csrf, db
from ..models import utcnow
from ..offline import clock
from ..shifts.services import local_date
from ..site_models import AMBIANCES, SiteObservation
from . import api_bp as bp
from . import services

csrf.exempt(bp)
bp.before_request(_csrf_for_sessions)
bp.register_error_handler(CSRFError, _csrf_failed)
bp.register_error_handler(ValidationError, _invalid)
bp.register_error_handler(Conflict, _conflict)
bp.register_error_handler(Forbidden, _forbidden)

COUNT_GROUPS = {
    "unapproached": {"f": "unapproached_women", "m": "unapproached_men", "x": "unapproached_other"},
    "used_material": {"syringes": "syringes_collected", "pipes": "pipes_collected"},
    "mediations": {"residents": "mediations_residents", "shopkeepers": "mediations_shopkeepers"}}


def _site_id(code):
    if not queryargs.plausible_code(code):
        _bad("site", _("Code de site attendu."))
    site = db.session.execute(db.select(services.Site).filter_by(code=code)).scalar_one_or_none()
    return site.id if site is not None else _bad("site", _("Site inconnu."))


def _group(data, group):
    value = data.get(group) or {}
    if not isinstance(value, dict) or set(value) - set(COUNT_GROUPS[group]):
        _bad(group, _("Objet attendu avec les clés %(keys)s.", keys=", ".join(COUNT_GROUPS[group])))
    return {column: _int(value, key, 0, 0, services.MAX_COUNT)
            for key, column in COUNT_GROUPS[group].items()}


def observation_data(data):
    ambiance = data.get("ambiance")
    if ambiance is not None and ambiance not in AMBIANCES:
        _bad("ambiance", _("Ambiance inconnue."))
    counts = {"people_seen": _int(data, "people_seen", 0, 0, services.MAX_COUNT)}
    for group in COUNT_GROUPS:
        counts.update(_group(data, group))
    return {"id": _uuid(data.get("id")), "site_id": _site_id(data.get("site")),
            "observed_at": _when(data, "observed_at"), "ambiance": ambiance,
            "police_presence": _optional_bool(data, "police_presence"), **counts}


def _iso(value):
    return value.isoformat() + "Z" if value else None


def observation_json(observation):
    groups = {group: {key: getattr(observation, column) for key, column in columns.items()}
              for group, columns in COUNT_GROUPS.items()}
    return {"id": observation.id, "shift_id": observation.shift_id, "site": observation.site.code,
            "observed_at": _iso(observation.observed_at), "people_seen": observation.people_seen,
            "ambiance": observation.ambiance, "police_presence": observation.police_presence,
            **groups}


@bp.route("/api/v1/site-observations", methods=["POST"])
def post_observation():
    body = _body()
    data = observation_data(body)
    # offline: the phone's time
    clock.correct_phone_times(data, "observed_at", ("site_observations", data["id"]))
    shift = None
    if db.session.get(SiteObservation, data["id"]) is None:
        shift = services.own_shift(_uuid(body.get("shift_id"), "shift_id"), current_user)
        if shift is None:
            _bad("shift_id", _("Maraude inconnue."))
    return _create(SiteObservation, data["id"],
                   lambda: services.record_site_observation(shift, current_user, data),
                   observation_json)


@bp.route("/api/v1/site-observations/<observation_id>", methods=["GET"])
def get_observation(observation_id):
    observation = services.get_observation(observation_id, current_user)
    if observation is None:
        return jsonify(errors={"id": _("Observation inconnue.")}), 404
    return jsonify(observation_json(observation))


@bp.route("/api/v1/sites", methods=["GET"])
def get_sites():
    """The sites active today, with their type and sector codes (the phone's list when offline)."""
    sites = services.list_sites(active_on=local_date(utcnow()))
    return jsonify(sites=[
        {"code": s.code, "name": s.name, "type": s.type.code, "arrondissement": s.arrondissement,
         "sector": s.sector.code} for s in sites])


_ROLE = {"description": "Rôle non autorisé (intervenant·es et coordinateur·rices seulement)"}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 1000}
_ERRORS = {"description": "Erreur de saisie (champ : message)",
           "content": {"application/json": {"schema": {"type": "object"}}}}
OPENAPI_SCHEMAS = {
    "SiteObservationIn": {
        "type": "object", "required": ["id", "shift_id", "site"],
        "properties": {
            "id": {"type": "string", "format": "uuid",
                   "description": "Identifiant choisi par le client (idempotence)"},
            "shift_id": {"type": "string", "format": "uuid"}, "site": {"type": "string"},
            "observed_at": {"type": "string", "format": "date-time"}, "people_seen": _COUNT,
            "ambiance": {"type": ["string", "null"], "enum": [*AMBIANCES, None]},
            "police_presence": {"type": ["boolean", "null"]},
            **{group: {"type": "object", "additionalProperties": False,
                       "properties": {key: _COUNT for key in columns}}
               for group, columns in COUNT_GROUPS.items()}},
        "example": {"id": "0b7c1f9e-3c55-4b8e-9f6a-2f1d0c9a7e11",
                    "shift_id": "5d2f7a1e-8b3c-4e6f-a9d0-1c2b3a4d5e6f",
                    "site": "stalingrad", "people_seen": 12,
                    "unapproached": {"f": 1, "m": 3, "x": 0},
                    "ambiance": "tendue", "police_presence": True,
                    "used_material": {"syringes": 4, "pipes": 7},
                    "mediations": {"residents": 1, "shopkeepers": 0}}},
}
OPENAPI_PATHS = {
    "/api/v1/site-observations": {"post": {
        "summary": "Enregistrer l'observation d'un site pendant une maraude (idempotent par id)",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/SiteObservationIn"}}}},
        "responses": {"201": {"description": "Créée"},
                      "200": {"description": "Déjà reçue : l'enregistrement stocké"},
                      "422": _ERRORS, "401": {"description": "Authentification requise"},
                      "403": {"description": "Maraude close ou rôle non autorisé"},
                      "409": {"description": "Identifiant déjà utilisé par une autre "
                                             "organisation"}}}},
    "/api/v1/site-observations/{observation_id}": {"get": {
        "summary": "Lire une observation de site de son organisation",
        "parameters": [{"name": "observation_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "L'observation"}, "404": {"description": "Inconnue"},
                      "401": {"description": "Authentification requise"}, "403": _ROLE}}},
    "/api/v1/sites": {"get": {
        "summary": "Les sites actifs aujourd'hui (codes, type, secteur, arrondissement)",
        "responses": {"200": {"description": "La liste des sites"},
                      "401": {"description": "Authentification requise"}, "403": _ROLE}}},
}
