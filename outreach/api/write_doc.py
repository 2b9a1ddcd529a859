"""OpenAPI description of the write API (examples valid for worker@aurore.demo).

An encounter's kinds, limits and time rule come from the contact contract
(``outreach.contract``)."""
from .. import contract
from ..pseudonyms import inputs as code_inputs

CONTACT = contract.json_schema()

SHIFT_EXAMPLE = {"id": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", "team": "aurore_nord",
                 "started_at": "2026-11-27T21:30:00Z", "sectors": ["stalingrad"], "staff_count": 3,
                 "stock_out": {"kit_base": 40}}
CLOSE_EXAMPLE = {"ended_at": "2026-11-28T01:00:00Z", "ambiance": "calme", "police_presence": False,
                 "unapproached": {"f": 0, "m": 2, "x": 0}, "used_material_collected": 5,
                 "stock_back": {"kit_base": 12}}
ENCOUNTER_EXAMPLE = {"id": "0b7e5c1d-2f3a-4b5c-9d6e-7f8a9b0c1d2e", "shift_id": SHIFT_EXAMPLE["id"],
                     "occurred_at": "2026-11-27T22:10:00Z", "sector": "stalingrad", "kind": "known",
                     "person": {"digest": "3" * 64, "weak": False}, "people_count": 1, "sex": "m",
                     "age_band": "26_35", "living_situation": "rue", "products": ["crack"],
                     "needs": ["hebergement"], "materials": {"kit_base": 1},
                     "orientations": [{"destination": "csapa", "accompanied": True}],
                     "referrals": [{"programme": "assore"}]}
STEP_EXAMPLE = {"status": "refused", "occurred_on": "2026-11-27", "reason": "pas_de_place"}

_QTY = {"type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 10000}}
_CODES = {"type": "array", "items": {"type": "string"}}
_UUID = {"type": "string", "format": "uuid"}
_TIME = contract.TIME_SCHEMA
_ANY = {"type": "object"}
_ENCOUNTER = {"$ref": "#/components/schemas/Encounter"}  # lists_doc.SCHEMAS

SCHEMAS = {
    "ShiftIn": {"type": "object", "required": ["id", "team"], "example": SHIFT_EXAMPLE,
                "properties": {
        "id": _UUID, "team": {"type": "string"}, "started_at": _TIME, "sectors": _CODES,
        "staff_count": {"type": "integer", "minimum": 1, "maximum": 50}, "stock_out": _QTY}},
    "ShiftClose": {"type": "object", "example": CLOSE_EXAMPLE, "properties": {
        "ended_at": _TIME, "ambiance": {"type": ["string", "null"]},
        "police_presence": {"type": ["boolean", "null"]},
        "unapproached": {"type": "object", "properties": {
            k: {"type": "integer", "minimum": 0, "maximum": 10000} for k in ("f", "m", "x")}},
        "used_material_collected": {"type": "integer", "minimum": 0, "maximum": 10000},
        "stock_back": _QTY}},
    "EncounterIn": {"type": "object", "required": ["id", "shift_id", "kind"],
                    "example": ENCOUNTER_EXAMPLE,
                    "description": "Contrat d'un contact : known = une personne (person "
                                   "obligatoire) et people_count = 1 ; anonymous et refusal = "
                                   "aucune person. Une règle enfreinte répond 422 en nommant le "
                                   "champ.",
                    "allOf": contract.json_rules(), "properties": {
        "id": _UUID, "shift_id": _UUID, "occurred_at": CONTACT["occurred_at"],
        "sector": {"type": "string"}, "kind": CONTACT["kind"],
        "person": {"type": "object",
                   "description": "Seulement pour kind = known. digest = étape 1 du code "
                                                    "(README, « Pseudonym codes ») calculée sur : "
                                                    + " ; ".join(code_inputs.sentences()),
                   "required": ["digest"],
                   "properties": {"digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                                  "weak": {"type": "boolean"}}},
        "people_count": CONTACT["people_count"], "sex": CONTACT["sex"],
        "age_band": CONTACT["age_band"],
        "living_situation": {"type": "string"}, "products": _CODES, "needs": _CODES,
        "materials": CONTACT["materials"],
        "orientations": {"type": "array", "items": {"type": "object", "properties": {
            "destination": {"type": "string"}, "accompanied": {"type": "boolean"}}}},
        "referrals": {"type": "array", "items": {"type": "object", "properties": {
            "programme": {"type": "string"}}}}}},
    "ReferralStepIn": {"type": "object", "required": ["status", "occurred_on"],
                       "example": STEP_EXAMPLE, "properties": {
        "status": {"type": "string", "enum": ["accepted", "refused", "admitted", "exited"]},
        "occurred_on": {"type": "string", "format": "date"},
        "reason": {"type": "string",
                   "description": "refusal_reason (refused) or exit_reason (exited) code"}}},
    "Errors": {"type": "object", "required": ["errors"],
               "properties": {
                   "errors": {"type": "object", "additionalProperties": {"type": "string"}}}},
}


def _json(schema):
    return {"application/json": {"schema": schema}}


def _responses(ok, created=False):
    answers = {"200": {"description": "Enregistrement stocké (rejeu)", "content": _json(ok)},
               "400": {"description": "Requête illisible ou jeton CSRF manquant",
                       "content": _json(_ANY)},
               "401": {"description": "Authentification requise", "content": _json(_ANY)},
               "403": {"description": "Rôle non autorisé ou maraude close", "content": _json(_ANY)},
               "404": {"description": "Inconnu", "content": _json(_ANY)},
               "409": {"description": "Conflit (maraude déjà ouverte, identifiant déjà pris)",
                       "content": _json(_ANY)},
               "422": {"description": "Champs invalides",
                       "content": _json({"$ref": "#/components/schemas/Errors"})}}
    if created:
        answers["201"] = {"description": "Créé", "content": _json(ok)}
    return answers


def _post(op_id, summary, schema, example):
    return {"operationId": op_id, "summary": summary, "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/" + schema}, "example": example}}},
            "responses": _responses(_ANY, created=True)}


PATHS = {
    "/api/v1/shifts": {
        "post": _post("startShift", "Ouvrir une maraude (idempotent par id)", "ShiftIn",
                      SHIFT_EXAMPLE)},
    "/api/v1/shifts/{shift_id}/close": {"post": {
        **_post("closeShift", "Clore une maraude", "ShiftClose", CLOSE_EXAMPLE),
        "parameters": [
            {"name": "shift_id", "in": "path", "required": True, "schema": {"type": "string"}}]}},
    "/api/v1/encounters": {"post": {
        **_post("recordEncounter",
                "Enregistrer un contact (idempotent par id) ; la réponse donne l'id de chaque "
                "orientation et orientation d'hébergement créée (referrals[].id pour "
                "/referrals/{id}/steps)",
                "EncounterIn", ENCOUNTER_EXAMPLE),
        "responses": _responses(_ENCOUNTER, created=True)}},
    "/api/v1/encounters/{contact_id}": {"get": {
        "operationId": "readEncounter",
        "summary": "Un contact de l'organisation, avec les id de ses orientations",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "contact_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": _responses(_ENCOUNTER)}},
    "/api/v1/referrals/{referral_id}/steps": {"post": {
        **_post("advanceReferral",
                "Enregistrer l'étape suivante d'une orientation d'hébergement (rejouer la même "
                "étape répond 200 sans rien créer)", "ReferralStepIn", STEP_EXAMPLE),
        "parameters": [{"name": "referral_id", "in": "path", "required": True,
                        "schema": {"type": "string"}}]}},
    "/api/v1/reference": {"get": {
        "operationId": "readReference", "summary": "Équipes de l'utilisateur, secteurs et listes "
                                                   "(codes, libellés français et anglais)",
        "security": [{"bearer": []}], "responses": _responses(_ANY)}},
}
