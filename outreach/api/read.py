"""Read API: the plan catalogue and indicator values (suppressed as for the caller's role).

GET /api/v1/plan        the catalogue (axes, actions, indicators, targets)
GET /api/v1/indicators  values over ``from``..``to`` (ISO dates, default: the last 12 months),
                        optional ``group_by`` (month, team, sector, organisation), filters
                        ``organisation``/``team``/``sector`` (codes) and ``indicator`` (codes, repeated),
                        paginated over indicators (``page``, ``per_page``).
Plan managers read every organisation with disclosure control (``indicators.suppression``: perturbed
counts, small ones withheld), supervisors their own exactly; workers get 403.
One read is bounded: a period longer than READ_MAX_MONTHS or an answer of more than READ_MAX_VALUES
values is refused with 400 and a message saying what to ask instead.
``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS`` describe both routes for the OpenAPI document.
"""
from datetime import date, timedelta

from flask import current_app, jsonify, request
from flask_login import current_user

from ..access import allow, organisation_scope
from ..errors import ValidationError
from ..extensions import db
from ..indicators import services as ind
from ..indicators.rollups import add_months, month_start
from ..indicators.suppression import Hidden, describe, rules_for
from ..models import Organisation, Sector, Team
from . import bp

READERS = ("manager", "supervisor")
GROUPS = ("month", "team", "sector", "organisation")
MAX_PER_PAGE = 100
FIRST_MONTH = date(2000, 1, 1)


class BadQuery(Exception):
    """A malformed argument: 422."""
    status = 422

    def __init__(self, field, message):
        super().__init__(message)
        self.errors = {field: message}


class TooLarge(BadQuery):
    """Well-formed, but over the bounds of one read (READ_MAX_MONTHS, READ_MAX_VALUES): 400."""
    status = 400


@bp.route("/api/v1/plan", methods=["GET"])
@allow(*READERS)
def read_plan():
    plan = ind.load_plan()
    if plan is None:
        return jsonify(error="aucun plan installé"), 404
    return jsonify(plan=_plan_json(plan))


def _plan_json(plan):
    return {"code": plan.code, "title": plan.title, "is_illustrative": plan.is_illustrative,
            "axes": [{"number": a.number, "title": a.title, "actions": [_action_json(x) for x in a.actions]}
                     for a in plan.axes]}


def _action_json(action):
    return {"number": action.number, "title": action.title, "lead_partner": action.lead_partner,
            "operators": action.operators, "status": action.current_status,
            "indicators": [_indicator_json(i) for i in action.indicators]}


def _indicator_json(item):
    return {"code": item.code, "name": item.name, "definition": item.definition, "unit": item.unit,
            "numerator": item.numerator, "denominator": item.denominator, "factor": item.factor,
            "direction": item.direction, "baseline": item.baseline,
            "targets": [{"from": t.starts_on.isoformat(), "to": t.ends_on.isoformat(), "value": t.value}
                        for t in item.targets]}


@bp.route("/api/v1/indicators", methods=["GET"])
@allow(*READERS)
def read_indicators():
    try:
        query = _query(request.args)
        plan = ind.load_plan()
        items = [i for a in (plan.axes if plan else []) for x in a.actions for i in x.indicators]
        if query["codes"]:
            items = [i for i in items if i.code in query["codes"]]
        start = (query["page"] - 1) * query["per_page"]
        page = items[start:start + query["per_page"]]
        _check_size(len(page), query)
    except BadQuery as error:
        return jsonify(errors=error.errors), error.status
    return jsonify(period={"from": query["period"].start.isoformat(), "to": _last_day(query["period"].end)},
                   group_by=query["group_by"], page=query["page"], per_page=query["per_page"], total=len(items),
                   suppression=describe(rules_for(current_user)),
                   items=[_values(*one) for one in ind.evaluate(page, query["period"], query["filters"], current_user,
                                                                query["group_by"])])


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


# --- query arguments -------------------------------------------------------------

def _query(args):
    period = _period(args)
    group_by = args.get("group_by") or None
    if group_by is not None and group_by not in GROUPS:
        raise BadQuery("group_by", "valeur inconnue (month, team, sector ou organisation)")
    return {"period": period, "group_by": group_by, "filters": _filters(args),
            "codes": set(args.getlist("indicator")), "page": _int(args, "page", 1, 1, 10_000),
            "per_page": _int(args, "per_page", 50, 1, MAX_PER_PAGE)}


def _date(args, field, default):
    text = args.get(field)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(field, "date invalide (attendu AAAA-MM-JJ)") from None


def _period(args):
    """Whole months from ``from`` to ``to``, kept within 2000..next year; longer than READ_MAX_MONTHS is
    refused (400). The period actually used is returned in the answer."""
    today = date.today()
    end = _clamp(month_start(_date(args, "to", today)))
    start = _clamp(month_start(_date(args, "from", add_months(end, -11))))
    start = min(start, end)
    try:
        ind.check_period_length(start, end)
    except ValidationError as error:
        raise TooLarge("from", error.errors["from"]) from None
    return ind.Period(start, end, "custom")


def _groups(query):
    """How many groups ``group_by`` makes (an upper bound: every team, sector or organisation in scope)."""
    by = query["group_by"]
    if by is None:
        return 0
    if by == "month":
        return ind.months_between(query["period"].start, query["period"].end)
    model = _FILTER_MODELS[by]
    count = db.select(db.func.count()).select_from(model)
    scope = organisation_scope(current_user)
    if scope is not None and by in ("organisation", "team"):
        count = count.where((model.id if by == "organisation" else model.organisation_id) == scope)
    return db.session.execute(count).scalar()


def _check_size(indicators, query):
    """400 when the answer would hold more than READ_MAX_VALUES values."""
    limit = current_app.config["READ_MAX_VALUES"]
    values = indicators * (1 + _groups(query))
    if values > limit:
        raise TooLarge("per_page", f"réponse trop grande : {values} valeurs ({indicators} indicateurs × "
                       f"{values // max(indicators, 1) - 1} groupes + totaux), {limit} au plus ; demandez moins "
                       "d'indicateurs par page (per_page, indicator), une période plus courte ou un autre group_by")


def _clamp(month):
    return min(max(month, FIRST_MONTH), date(date.today().year + 1, 12, 1))


def _int(args, field, default, low, high):
    text = args.get(field)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadQuery(field, f"entier attendu entre {low} et {high}")
    return int(text)


_FILTER_MODELS = {"organisation": Organisation, "team": Team, "sector": Sector}


def _filters(args):
    filters = {"include_provisional": args.get("provisional") in ("1", "true")}
    for key, model in _FILTER_MODELS.items():
        code = args.get(key)
        if code:
            found = None if "\x00" in code else db.session.execute(db.select(model.id).filter_by(code=code)).scalar()
            filters[f"{key}_id"] = -1 if found is None else found  # an unknown code matches nothing
    scope = organisation_scope(current_user)
    if scope is not None:
        filters["organisation_id"] = scope if filters.get("organisation_id") in (None, scope) else -1
    return filters


# --- OpenAPI ---------------------------------------------------------------------

_ERRORS = {"401": {"description": "Authentification requise",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
           "403": {"description": "Rôle non autorisé (intervenant·e)",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}

_VALUE_PROPS = {"value": {"type": ["number", "null"]}, "shown": {"type": "string"}, "suppressed": {"type": "boolean"}}

OPENAPI_SCHEMAS = {
    "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
    "QueryErrors": {"type": "object", "required": ["errors"],
                    "properties": {"errors": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "Plan": {"type": "object", "required": ["plan"], "properties": {"plan": {
        "type": "object", "required": ["code", "title", "axes"],
        "properties": {"code": {"type": "string"}, "title": {"type": "string"},
                       "is_illustrative": {"type": "boolean"},
                       "axes": {"type": "array", "items": {"type": "object"}}}}},
        "example": {"plan": {"code": "plan_crack_2019", "title": "Plan crack", "is_illustrative": True, "axes": [
            {"number": "1", "title": "Accompagner", "actions": [
                {"number": "1.1", "title": "Maraudes", "lead_partner": "Ville", "operators": "Aurore, Gaïa",
                 "status": "started", "indicators": [
                     {"code": "contacts", "name": "Rencontres", "definition": "", "unit": "", "numerator": "contacts",
                      "denominator": None, "factor": 1, "direction": "higher", "baseline": None, "targets": []}]}]}]}}},
    "IndicatorValues": {
        "type": "object", "required": ["period", "items", "page", "per_page", "total", "suppression"],
        "properties": {
            "period": {"type": "object", "properties": {"from": {"type": "string", "format": "date"},
                                                        "to": {"type": "string", "format": "date"}}},
            "group_by": {"type": ["string", "null"], "enum": [*GROUPS, None]},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}, "total": {"type": "integer"},
            "suppression": {"type": "object", "description": "Secret statistique appliqué aux valeurs",
                            "properties": {"applied": {"type": "boolean"},
                                           "method": {"type": "string", "enum": ["cell-key perturbation", "none"]},
                                           "threshold": {"type": "integer"}, "max_noise": {"type": "integer"}}},
            "items": {"type": "array", "items": {"type": "object", "required": ["indicator", "value", "shown"],
                      "properties": {"indicator": {"type": "string"}, "name": {"type": "string"},
                                     "unit": {"type": "string"}, **_VALUE_PROPS,
                                     "groups": {"type": "array", "items": {"type": "object", "properties": {
                                         "key": {"type": "string"}, **_VALUE_PROPS}}}}}}},
        "example": {"period": {"from": "2025-12-01", "to": "2026-11-30"}, "group_by": "organisation",
                    "page": 1, "per_page": 50, "total": 1, "suppression": {"applied": True, "method": "cell-key perturbation", "threshold": 5, "max_noise": 2},
                    "items": [{"indicator": "distinct_persons", "name": "Personnes distinctes", "unit": "",
                               "value": 1520, "shown": "1520", "suppressed": False,
                               "groups": [{"key": "Aurore", "value": 1200, "shown": "1200", "suppressed": False},
                                          {"key": "Gaïa", "value": None, "shown": "< 5", "suppressed": True}]}]}},
}


def _param(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


OPENAPI_PATHS = {
    "/api/v1/plan": {"get": {
        "summary": "Catalogue du plan (axes, actions, indicateurs, cibles)", "operationId": "readPlan",
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "Le catalogue", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Plan"}}}},
            "404": {"description": "Aucun plan installé", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}, **_ERRORS}}},
    "/api/v1/indicators": {"get": {
        "summary": "Valeurs des indicateurs sur une période, avec le secret statistique du rôle",
        "operationId": "readIndicators", "security": [{"bearer": []}],
        "parameters": [
            _param("from", "Premier jour (AAAA-MM-JJ ; défaut : 12 derniers mois). Les mois entiers sont comptés ; "
                   "la période réellement utilisée (depuis 2000) est renvoyée ; plus longue que OUTREACH_READ_MAX_MONTHS "
                   "(60 mois par défaut) : 400",
                   {"type": "string", "format": "date"}),
            _param("to", "Dernier jour (AAAA-MM-JJ)", {"type": "string", "format": "date"}),
            _param("group_by", "Découpage", {"type": "string", "enum": list(GROUPS)}),
            _param("organisation", "Code d'organisation (un code inconnu ne correspond à rien)", {"type": "string"}),
            _param("team", "Code d'équipe", {"type": "string"}),
            _param("sector", "Code de secteur", {"type": "string"}),
            _param("indicator", "Code d'indicateur (répétable)", {"type": "string"}),
            _param("provisional", "Inclure les maraudes non validées", {"type": "string", "enum": ["0", "1"]}),
            _param("page", "Page", {"type": "integer", "minimum": 1, "maximum": 10000}),
            _param("per_page", "Indicateurs par page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})],
        "responses": {"200": {"description": "Valeurs", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/IndicatorValues"}}}},
            "400": {"description": "Lecture trop coûteuse : période plus longue que OUTREACH_READ_MAX_MONTHS ou "
                    "réponse de plus de OUTREACH_READ_MAX_VALUES valeurs", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/QueryErrors"}}}},
            "422": {"description": "Paramètre invalide", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/QueryErrors"}}}}, **_ERRORS}}},
}
