"""Read API: the plan catalogue and indicator values (suppressed as for the caller's role).

GET /api/v1/plan        the catalogue (axes, actions, indicators with numerator, denominator, factor
and their
                        filters, targets)
GET /api/v1/indicators  values over a period, optional ``group_by`` (month, team, sector,
organisation) and
                        ``indicator`` (codes, repeated), paginated over indicators (``page``,
                        ``per_page``).
The period and filter arguments are those of the pages and exports (``outreach.queryargs``, one
parser); a refused argument answers 400 with ``errors`` naming it, in the caller's language.
Plan managers read every organisation with disclosure control (``indicators.suppression``: perturbed
counts, small ones withheld), supervisors their own exactly; workers get 403.
One read is bounded: a period longer than READ_MAX_MONTHS or an answer of more than READ_MAX_VALUES
values is refused with 400 and a message saying what to ask instead.
The answer gives each month's sign-off state (``month_states``: codes documented in the schema) and
how recent the values are (``figures``: after a busy night, the values as they stand while the
roll-ups catch up, with their time).
``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS`` describe both routes for the OpenAPI document.
"""
from datetime import timedelta

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import queryargs
from ..access import allow, scoped
from ..extensions import db
from ..indicators import services as ind
from ..indicators.rollups import add_months, figures_lag, figures_may_lag
from ..indicators.suppression import Hidden, describe, rules_for
from ..models import Indicator
from ..queryargs import BadQuery
from ..signoff.services import FIGURE_STATES, period_state_codes
from . import bp

READERS = ("manager", "supervisor")
GROUPS = ("month", "team", "sector", "organisation")
MAX_PER_PAGE = 100


@bp.errorhandler(BadQuery)
def _bad_query(error):
    """A query argument refused (``outreach.queryargs``), or a read over its bounds: 400 naming
    it."""
    db.session.rollback()
    return jsonify(errors=error.errors), 400


@bp.route("/api/v1/plan", methods=["GET"])
@allow(*READERS)
def read_plan():
    plan = ind.load_plan()
    if plan is None:
        return jsonify(error=_("Aucun plan installé.")), 404
    return jsonify(plan=_plan_json(plan))


def _plan_json(plan):
    return {"code": plan.code, "title": plan.title, "is_illustrative": plan.is_illustrative,
            "axes": [{"number": a.number, "title": a.title,
                      "actions": [_action_json(x) for x in a.actions]}
                     for a in plan.axes]}


def _action_json(action):
    return {"number": action.number, "title": action.title, "lead_partner": action.lead_partner,
            "operators": action.operators, "status": action.current_status,
            "indicators": [_indicator_json(i) for i in action.indicators]}


def _indicator_json(item):
    return {"code": item.code, "name": item.name, "definition": item.definition, "unit": item.unit,
            "numerator": item.numerator, "numerator_filters": item.numerator_filters or {},
            "denominator": item.denominator, "denominator_filters": item.denominator_filters or {},
            "factor": item.factor,
            "direction": item.direction, "baseline": item.baseline,
            "targets": [
                {"from": t.starts_on.isoformat(), "to": t.ends_on.isoformat(), "value": t.value}
                for t in item.targets]}


@bp.route("/api/v1/indicators", methods=["GET"])
@allow(*READERS)
def read_indicators():
    query = _query(request.args)
    plan = ind.load_plan()
    items = [i for a in (plan.axes if plan else []) for x in a.actions for i in x.indicators]
    if query["codes"]:
        items = [i for i in items if i.code in query["codes"]]
    start = (query["page"] - 1) * query["per_page"]
    page = items[start:start + query["per_page"]]
    _check_size(len(page), query)
    figures_may_lag()
    values = [_values(*one) for one in ind.evaluate(page, query["period"], query["filters"],
                                                     current_user, query["group_by"])]
    return jsonify(
        period={"from": query["period"].start.isoformat(), "to": _last_day(query["period"].end)},
        group_by=query["group_by"], page=query["page"], per_page=query["per_page"],
        total=len(items), suppression=describe(rules_for(current_user)),
        month_states=period_state_codes(query["period"], query["filters"]),
        figures=_figures(), items=values)


def _figures():
    """How recent the values are: ``current`` false while a backlog of writes is being caught up;
    ``as_of`` (UTC): every write made before it is included (null: current, or unknown)."""
    lag = figures_lag()
    as_of = lag and lag["as_of"]
    return {"current": lag is None,
            "as_of": as_of.isoformat(timespec="seconds") + "Z" if as_of else None}


def _values(item, value, groups):
    out = {"indicator": item.code, "name": item.name, "unit": item.unit, **_number(value)}
    if groups is not None:
        out["groups"] = [{"key": str(label), **_number(value)} for label, value in groups]
    return out


def _number(value):
    if isinstance(value, Hidden):
        return {"value": None, "shown": str(value), "suppressed": True}
    if isinstance(value, float):
        value = round(value, 4)
    return {"value": value, "shown": "" if value is None else str(value), "suppressed": False}


def _last_day(month):
    return (add_months(month, 1) - timedelta(days=1)).isoformat()


# --- query arguments (``outreach.queryargs``: the same as the pages' and the exports') ------------

def _query(args):
    return {"period": queryargs.parse_period(args),
            "group_by": queryargs.parse_choice(args, "group_by", GROUPS),
            "filters": queryargs.parse_filters(args, current_user), "codes": _indicator_codes(args),
            "page": queryargs.parse_int(args, "page", 1, 1, 10_000),
            "per_page": queryargs.parse_int(args, "per_page", 50, 1, MAX_PER_PAGE)}


def _indicator_codes(args):
    codes = {code for code in args.getlist("indicator") if code}
    asked = [code for code in codes if queryargs.plausible_code(code)]
    known = set(
        db.session.execute(db.select(Indicator.code).where(Indicator.code.in_(asked))).scalars())
    unknown = sorted(queryargs.shown_code(c) for c in codes - known)
    if unknown:
        raise BadQuery({"indicator": _("Code inconnu : « %(code)s ».", code=", ".join(unknown))})
    return codes


def _groups(query):
    """How many groups ``group_by`` makes (an upper bound: every team, sector or organisation in
    scope)."""
    by = query["group_by"]
    if by is None:
        return 0
    if by == "month":
        return ind.months_between(query["period"].start, query["period"].end)
    model = queryargs.CODE_MODELS[by]
    count = db.select(db.func.count()).select_from(model)
    if by in ("organisation", "team"):
        count = scoped(count, model)
    return db.session.execute(count).scalar()


def _check_size(indicators, query):
    """400 when the answer would hold more than READ_MAX_VALUES values."""
    limit = current_app.config["READ_MAX_VALUES"]
    groups = _groups(query)
    values = indicators * (1 + groups)
    if values > limit:
        raise BadQuery({"per_page": _(
            "Réponse trop grande : %(values)s valeurs (%(indicators)s indicateurs × %(groups)s "
            "groupes + totaux), %(limit)s au plus ; demandez moins d'indicateurs par page "
            "(per_page, indicator), une période plus courte ou un autre group_by.",
            values=values, indicators=indicators, groups=groups, limit=limit)})


# --- OpenAPI ---------------------------------------------------------------------

_ERRORS = {"401": {"description": "Authentification requise",
                   "content": {
                       "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
           "403": {"description": "Rôle non autorisé (intervenant·e)",
                   "content": {
                       "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}

QUERY_ERRORS = {
    "description": "Paramètre refusé, nommé dans errors (traduit selon Accept-Language) : date "
                   "illisible, to avant from, code inconnu, ou lecture trop coûteuse (période plus "
                   "longue que OUTREACH_READ_MAX_MONTHS, réponse de plus de "
                   "OUTREACH_READ_MAX_VALUES valeurs)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryErrors"},
                                     "example": {"errors": {"team": "Code inconnu : « nord ».",
                                                            "to": "La fin de la période (to) doit "
                                                                  "suivre son début (from)."}}}}}

MONTH_STATES_DOC = (
    "État de signature de chaque mois de la période (outreach.signoff), pour l'organisation "
    "filtrée ou pour toutes : provisional = provisoire (mois non signé, renvoyé pour correction ou "
    "rouvert), signed_off = signé par l'organisation, en attente du pilote du plan, accepted = "
    "accepté par le pilote du plan. Pour plusieurs organisations, l'état le moins avancé de celles "
    "qui ont travaillé ce mois-là ; un mois sans maraude est provisional.")

_VALUE_PROPS = {"value": {"type": ["number", "null"]}, "shown": {"type": "string"},
                "suppressed": {"type": "boolean"}}

OPENAPI_SCHEMAS = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
    "QueryErrors": {"type": "object", "required": ["errors"],
                    "properties": {
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "Plan": {"type": "object", "required": ["plan"], "properties": {"plan": {
        "type": "object", "required": ["code", "title", "axes"],
        "properties": {"code": {"type": "string"}, "title": {"type": "string"},
                       "is_illustrative": {"type": "boolean"},
                       "axes": {"type": "array", "items": {"type": "object"}}}}},
        "example": {"plan": {"code": "plan_crack_2019", "title": "Plan crack",
                             "is_illustrative": True, "axes": [
            {"number": "1", "title": "Accompagner", "actions": [
                {"number": "1.1", "title": "Maraudes", "lead_partner": "Ville",
                 "operators": "Aurore, Gaïa", "status": "started", "indicators": [
                     {"code": "contacts", "name": "Rencontres", "definition": "", "unit": "",
                      "numerator": "contacts",
                      "numerator_filters": {"kind": "known"}, "denominator": None,
                      "denominator_filters": {},
                      "factor": 1, "direction": "higher", "baseline": None, "targets": []}]}]}]}}},
    "IndicatorValues": {
        "type": "object",
        "required": ["period", "items", "page", "per_page", "total", "suppression"], "properties": {
            "period": {"type": "object",
                       "properties": {"from": {"type": "string", "format": "date"},
                                      "to": {"type": "string", "format": "date"}}},
            "group_by": {"type": ["string", "null"], "enum": [*GROUPS, None]},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "suppression": {"type": "object",
                            "description": "Secret statistique appliqué aux valeurs",
                            "properties": {"applied": {"type": "boolean"},
                                           "method": {"type": "string",
                                                      "enum": ["cell-key perturbation", "none"]},
                                           "threshold": {"type": "integer"},
                                           "max_noise": {"type": "integer"}}},
            "figures": {
                "type": "object", "required": ["current", "as_of"],
                "description": "Fraîcheur des valeurs : après une nuit chargée, la réponse part "
                               "des chiffres tels qu'ils sont (current false) pendant leur mise à "
                               "jour ; as_of (UTC) : toute saisie antérieure y est comptée",
                "properties": {"current": {"type": "boolean"},
                               "as_of": {"type": ["string", "null"], "format": "date-time"}}},
            "month_states": {
                "type": "array", "description": MONTH_STATES_DOC,
                "items": {"type": "object", "required": ["month", "state"], "properties": {
                    "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                    "state": {"type": "string", "enum": list(FIGURE_STATES)}}}},
            "items": {"type": "array",
                      "items": {"type": "object", "required": ["indicator", "value", "shown"],
     "properties": {"indicator": {"type": "string"}, "name": {"type": "string"},
                    "unit": {"type": "string"}, **_VALUE_PROPS,
                    "groups": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, **_VALUE_PROPS}}}}}}},
        "example": {"period": {"from": "2025-12-01", "to": "2026-11-30"},
                    "group_by": "organisation",
                    "month_states": [{"month": "2025-12", "state": "accepted"},
                                     {"month": "2026-01", "state": "signed_off"},
                                     {"month": "2026-02", "state": "provisional"}],
                    "page": 1, "per_page": 50, "total": 1,
                    "figures": {"current": False, "as_of": "2026-12-01T02:12:00Z"},
                    "suppression": {"applied": True, "method": "cell-key perturbation",
                                    "threshold": 5, "max_noise": 2},
                    "items": [{"indicator": "distinct_persons", "name": "Personnes distinctes",
                               "unit": "", "value": 1520, "shown": "1520", "suppressed": False,
                               "groups": [{"key": "Aurore", "value": 1200, "shown": "1200",
                                           "suppressed": False},
                                          {"key": "Gaïa", "value": None, "shown": "< 5",
                                           "suppressed": True}]}]}},
}


_param = queryargs.query_param


OPENAPI_PATHS = {
    "/api/v1/plan": {"get": {
        "summary": "Catalogue du plan (axes, actions, indicateurs, cibles)",
        "operationId": "readPlan", "security": [{"bearer": []}],
        "responses": {"200": {"description": "Le catalogue", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Plan"}}}},
            "404": {"description": "Aucun plan installé", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}, **_ERRORS}}},
    "/api/v1/indicators": {"get": {
        "summary": "Valeurs des indicateurs sur une période, avec le secret statistique du rôle",
        "operationId": "readIndicators", "security": [{"bearer": []}],
        "parameters": [
            *queryargs.OPENAPI_PARAMETERS.values(),
            _param("group_by", "Découpage", {"type": "string", "enum": list(GROUPS)}),
            _param("indicator", "Code d'indicateur (répétable)", {"type": "string"}),
            _param("page", "Page", {"type": "integer", "minimum": 1, "maximum": 10000}),
            _param("per_page", "Indicateurs par page",
                   {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})],
        "responses": {"200": {"description": "Valeurs", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/IndicatorValues"}}}},
            "400": QUERY_ERRORS, **_ERRORS}}},
}
