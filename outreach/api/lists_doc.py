"""OpenAPI description of the lists (``lists.py``) and of the supervisor review (``review.py``);
examples valid for the demo data (supervisor@aurore.demo)."""
from .. import contract, queryargs
from ..models import REFERRAL_STATES, SHIFT_STATES
from . import lists
from .review import FIELDS
from .write_doc import ENCOUNTER_EXAMPLE, SHIFT_EXAMPLE

_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_JSON = "application/json"


def _ref(name):
    return {"$ref": "#/components/schemas/" + name}


SHIFT_OUT = {"id": SHIFT_EXAMPLE["id"], "team": "aurore_nord", "status": "closed",
             "started_at": "2026-11-27T21:30:00Z", "ended_at": "2026-11-28T01:00:00Z",
             "shift_on": "2026-11-27",
             "sectors": ["stalingrad"], "staff_count": 3, "stock_out": {"kit_base": 40}}
REFERRAL_ID = "9d3e1f2a-4b5c-4d6e-8f7a-0b1c2d3e4f5a"
ENCOUNTER_OUT = {"id": ENCOUNTER_EXAMPLE["id"], "shift_id": SHIFT_EXAMPLE["id"], "kind": "known",
                 "occurred_at": "2026-11-27T22:10:00Z", "sector": "stalingrad", "people_count": 1,
                 "person": {"known": True, "last_seen_on": "2026-11-20",
                            "last_seen_team": "Maraude Nord"},
                 "orientations": [{"id": 812, "destination": "csapa", "accompanied": True}],
                 "referrals": [{"id": REFERRAL_ID, "programme": "assore", "status": "proposed",
                                "steps_url": f"/api/v1/referrals/{REFERRAL_ID}/steps"}]}
REFERRAL_OUT = {"id": REFERRAL_ID, "programme": "assore", "status": "refused",
                "steps": [{"status": "proposed", "occurred_on": "2026-11-27", "reason": None},
                          {"status": "refused", "occurred_on": "2026-11-30",
                           "reason": "pas_de_place"}],
                "contact_id": ENCOUNTER_EXAMPLE["id"], "proposed_on": "2026-11-27",
                "team": "aurore_nord", "sector": "stalingrad"}
NEXT = (
    "/api/v1/encounters?team=aurore_nord&limit=1&cursor=WyIyMDI2LTExLTI3VDIyOjEwOjAwIiwgIjBiN2UiXQ")

SCHEMAS = {
    "Shift": {"type": "object", "required": ["id", "team", "status", "started_at", "shift_on"],
              "example": SHIFT_OUT, "properties": {
                  "id": _UUID, "team": {"type": "string"},
                  "status": {"type": "string", "enum": list(SHIFT_STATES)},
                  "started_at": _TIME, "ended_at": _TIME,
                  "shift_on": {"type": "string", "format": "date"},
                  "sectors": {"type": "array", "items": {"type": "string"}},
                  "staff_count": {"type": "integer"},
                  "stock_out": {"type": "object", "additionalProperties": {"type": "integer"}},
                  "summary_digest": {"type": "string",
                                     "description": "Empreinte de la synthèse (GET d'une maraude) "
                                     "à renvoyer avec la validation"},
                  "validated_at": _TIME}},
    "Encounter": {"type": "object",
                  "required": ["id", "shift_id", "kind", "orientations", "referrals"],
                  "example": ENCOUNTER_OUT, "properties": {
                      "id": _UUID, "shift_id": _UUID,
                      "kind": {"type": "string", "enum": list(contract.KINDS)},
                      "occurred_at": _TIME, "sector": {"type": ["string", "null"]},
                      "people_count": {"type": "integer"},
                      "person": {"type": "object", "properties": {
                          "known": {"type": "boolean"},
                          "last_seen_on": {"type": ["string", "null"], "format": "date"},
                          "last_seen_team": {"type": ["string", "null"]}}},
                      "orientations": {"type": "array", "items": {
                          "type": "object", "required": ["id", "destination"], "properties": {
                              "id": {"type": "integer"}, "destination": {"type": "string"},
                              "accompanied": {"type": "boolean"}}}},
                      "referrals": {"type": "array", "description": "Orientations d'hébergement "
                                                                    "créées : leur id sert à POST "
                                                                    "/api/v1/referrals/{id}/steps",
                                    "items": {
                                        "type": "object", "required": ["id", "programme", "status"],
                                        "properties": {
                                            "id": _UUID, "programme": {"type": "string"},
                                            "status": {"type": "string",
                                                       "enum": list(REFERRAL_STATES)},
                                            "steps_url": {"type": "string"}}}}}},
    "Referral": {"type": "object", "required": ["id", "programme", "status", "steps"],
                 "example": REFERRAL_OUT, "properties": {
                     "id": _UUID, "programme": {"type": "string"},
                     "status": {"type": "string", "enum": list(REFERRAL_STATES)},
                     "steps": {"type": "array", "items": {"type": "object", "properties": {
                         "status": {"type": "string"},
                         "occurred_on": {"type": "string", "format": "date"},
                         "reason": {"type": ["string", "null"]}}}},
                     "contact_id": _UUID, "proposed_on": {"type": "string", "format": "date"},
                     "team": {"type": "string"}, "sector": {"type": ["string", "null"]}}},
    **{f"{name}List": {"type": "object", "required": ["items", "limit", "next"],
                       "example": {"items": [example], "limit": 1, "next": NEXT}, "properties": {
                           "items": {"type": "array", "items": _ref(name)},
                           "limit": {"type": "integer"},
                           "next": {"type": ["string", "null"],
                                    "description": "Page suivante (null : dernière page)"}}}
       for name, example in (("Shift", SHIFT_OUT), ("Encounter", ENCOUNTER_OUT),
                             ("Referral", REFERRAL_OUT))},
    "ValidateIn": {"type": "object", "example": {"summary_digest": "3f2a9c1d0b7e6a54"},
                   "properties": {
        "summary_digest": {"type": "string",
                           "description": "summary_digest lu par GET /api/v1/shifts/{id} : "
                           "si la synthèse a changé depuis, 422 (summary)"}}},
    "UnvalidateIn": {"type": "object", "required": ["reason"],
                     "example": {"reason": "Contact saisi deux fois"},
                     "properties": {"reason": {"type": "string", "minLength": 1}}},
    "CorrectionIn": {"type": "object", "required": ["field", "value", "reason"],
                     "example": {"field": "people_count", "value": 2,
                                 "reason": "Deux personnes présentes"},
                     "properties": {
                         "field": {"type": "string", "description": "Un de " + ", ".join(FIELDS)
                                   + " ou material-<code>"},
                         "value": {"type": ["string", "integer"],
                                   "description": "Code, nombre ou date-heure ISO"},
                         "reason": {"type": "string", "minLength": 1}}},
}

_ERR = {"content": {_JSON: {"schema": _ref("Errors")}}}
_OTHER = {"content": {_JSON: {"schema": {"type": "object"}}}}
_AUTH = {"401": {"description": "Authentification requise", **_OTHER},
         "403": {"description": "Rôle non autorisé", **_OTHER}}
_PAGE = [queryargs.query_param("limit", "Lignes par page",
                               {"type": "integer", "minimum": 1, "maximum": lists.MAX_LIMIT}),
         queryargs.query_param("cursor", "Reprise : le lien next d'une réponse le donne",
                               {"type": "string"})]
_COMMON = [queryargs.OPENAPI_PARAMETERS[name]
           for name in ("from", "to", "organisation", "team", "sector")]


def _list(op_id, summary, name, extra):
    return {"get": {
        "operationId": op_id, "summary": summary, "security": [{"bearer": []}],
        "parameters": [*_COMMON, *extra, *_PAGE],
        "responses": {"200": {"description": "Une page, la plus récente d'abord",
                              "content": {_JSON: {"schema": _ref(name + "List")}}},
                      "400": {"description": "Paramètre refusé (nommé dans errors)", **_ERR},
                      **_AUTH}}}


def _path_id(name):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _action(op_id, summary, body, answer, path_id):
    return {"post": {
        "operationId": op_id, "summary": summary, "security": [{"bearer": []}],
        "parameters": [_path_id(path_id)],
        "requestBody": {"required": body == "UnvalidateIn" or body == "CorrectionIn",
                        "content": {_JSON: {"schema": _ref(body)}}},
        "responses": {"200": {"description": "Enregistré (audité comme depuis les pages de revue)",
                              "content": {_JSON: {"schema": _ref(answer)}}},
                      "400": {"description": "Requête illisible ou jeton CSRF manquant", **_OTHER},
                      "404": {"description": "Inconnu dans votre organisation", **_OTHER},
                      "422": {"description": "Refusé par la règle de revue (maraude non clôturée "
                                             "ou déjà validée, motif manquant, valeur invalide), "
                                             "le champ nommé", **_ERR},
                      **_AUTH,
                      "403": {"description": "Réservé aux superviseur·e·s, ou maraude d'une autre "
                                             "organisation", **_OTHER}}}}


def _state(choices, what):
    return queryargs.query_param("state", what, {"type": "string", "enum": list(choices)})


PATHS = {
    "/api/v1/shifts": _list("listShifts",
                            "Maraudes de votre organisation (date de la maraude entre from et to)",
                            "Shift", [_state(SHIFT_STATES, "État")]),
    "/api/v1/encounters": _list(
        "listEncounters", "Contacts de votre organisation (d'une intervenante : de ses équipes)",
        "Encounter",
        [queryargs.query_param("kind", "Type de contact",
                               {"type": "string", "enum": list(contract.KINDS)}),
         queryargs.query_param("shift", "Identifiant de maraude", {"type": "string"})]),
    "/api/v1/referrals": _list("listReferrals",
                               "Orientations d'hébergement (date de proposition entre from et to)",
                               "Referral", [_state(REFERRAL_STATES, "État")]),
    "/api/v1/shifts/{shift_id}": {"get": {
        "operationId": "readShift", "summary": "Une maraude et l'empreinte de sa synthèse",
        "security": [{"bearer": []}], "parameters": [_path_id("shift_id")],
        "responses": {
            "200": {"description": "La maraude", "content": {_JSON: {"schema": _ref("Shift")}}},
            "404": {"description": "Inconnue dans votre organisation", **_OTHER}, **_AUTH}}},
    "/api/v1/shifts/{shift_id}/validate": _action(
        "validateShift", "Valider (verrouiller) une maraude clôturée", "ValidateIn", "Shift",
        "shift_id"),
    "/api/v1/shifts/{shift_id}/unvalidate": _action(
        "unvalidateShift", "Retirer la validation, avec un motif", "UnvalidateIn", "Shift",
        "shift_id"),
    "/api/v1/encounters/{contact_id}/corrections": _action(
        "correctEncounter", "Corriger un champ d'un contact, avec un motif", "CorrectionIn",
        "Encounter", "contact_id"),
}
