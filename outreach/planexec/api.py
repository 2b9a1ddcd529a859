"""Read API of plan execution, on the API blueprint (token or session), for plan managers and
admins.

GET /api/v1/plan/progress  actions' statuses and late milestones on a day (``on``, default today)
GET /api/v1/plan/budgets   budget lines and totals per funder, action and axis, for the calendar
years of ``from``..``to`` GET /api/v1/plan/places    places, occupancy, stays, exits and returns per
programme over ``from``..``to`` GET /api/v1/plan/coverage  persons reached over 12 months against
the latest estimate, on ``on``

The figures are the report card's (``card``): person-derived counts protected for every reader as
there (withheld: ``value`` null, ``suppressed`` true); places, statuses and budgets as entered.
Amounts in euros. ``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS`` describe the routes for the OpenAPI
document.
"""
from flask import jsonify, request

from ..access import allow
from ..api import bp
from ..api.read import _ERRORS, _VALUE_PROPS, _number, _param
from ..errors import ValidationError
from ..indicators.services import load_plan
from ..indicators.suppression import current_rules, describe
from . import card, measures
from .services import parse_date

READERS = ("manager", "admin")


def _day(field):
    return parse_date(request.args.get(field) or card.today().isoformat(), field, field)


def _errors(error):
    return jsonify(errors={k: str(v) for k, v in error.errors.items()}), 400


def _no_plan():
    return jsonify(error="aucun plan installé"), 404


def _euros(cents):
    return round(cents / 100, 2)


def _amounts(totals):
    return dict(zip(("planned", "committed", "spent"), map(_euros, totals), strict=True))


@bp.route("/api/v1/plan/progress", methods=["GET"])
@allow(*READERS)
def read_progress():
    try:
        day = _day("on")
    except ValidationError as error:
        return _errors(error)
    plan = load_plan()
    if plan is None:
        return _no_plan()
    axes = card.progress(plan, day)
    return jsonify(on=day.isoformat(), counts=card.total_counts(axes), axes=[
        {"number": a.axis.number, "title": a.axis.title,
         "counts": {s: a.counts.get(s, 0) for s in card.STATUS_LABELS},
         "actions": [_action(c) for c in a.actions]} for a in axes])


def _action(c):
    change = c.status_change
    return {"number": c.action.number, "title": c.action.title, "status": c.status,
            "since": change.effective_on.isoformat() if change else None,
            "reason": change.reason if change else None,
            "evidence": change.evidence if change else None,
            "late_milestones": [{"title": m.title, "due_on": m.due_on.isoformat()} for m in c.late]}


@bp.route("/api/v1/plan/budgets", methods=["GET"])
@allow(*READERS)
def read_budgets():
    try:
        period = card.parse_period(request.args, card.today())
    except ValidationError as error:
        return _errors(error)
    lines = measures.budget_lines(period.first.year, period.last.year)
    section = card.budget_section(lines)
    by_action = measures.budget_totals(lines,
                                       lambda line: (line.action.axis.number, line.action.number))
    by_axis = measures.budget_totals(lines, lambda line: line.action.axis.number)
    return jsonify(
        years=[period.first.year, period.last.year], total=_amounts(section["total"]),
        by_funder=[{"funder": f.code, "label": f.label, **_amounts(t)}
                   for f, t in section["by_funder"]],
        by_axis=[{"axis": k, **_amounts(t)} for k, t in sorted(by_axis.items())],
        by_action=[{"axis": k[0], "action": k[1], **_amounts(t)}
                   for k, t in sorted(by_action.items())],
        lines=[{"action": line.action.number, "funder": line.funder.code, "year": line.year,
                **_amounts([line.planned_cents, line.committed_cents, line.spent_cents])}
               for line in lines])


@bp.route("/api/v1/plan/places", methods=["GET"])
@allow(*READERS)
def read_places():
    try:
        period = card.parse_period(request.args, card.today())
    except ValidationError as error:
        return _errors(error)
    sections = card.places_section(card.all_programmes(), period)
    return jsonify(period={"from": period.first.isoformat(), "to": period.last.isoformat()},
                   suppression=describe(current_rules()),
                   programmes=[_programme(p) for p in sections])


def _programme(p):
    rate = None if p["rate"] is None else round(p["rate"], 2)
    return {
        "programme": p["programme"].code, "places_end": p["places_end"],
        "place_nights": p["place_nights"],
        "person_nights": _number(p["person_nights"]), "occupancy_rate": rate,
        "stays_completed": _number(p["completed"]), "median_days": p["median"],
        "stays_open": _number(p["open"]), "stay_length_buckets": [
            {"from_days": low, "to_days": high, **_number(n)}
            for (low, high), n in zip(measures.STAY_BUCKETS, p["buckets"],
                                      strict=True)],
        "exits": [{"reason": r.code if r else None, **_number(n)} for r, n in p["exits"]],
        "exits_stable_housing": _number(p["exits_stable"]),
        "refusals_no_place": (None if p["refusals_no_place"] is None
                              else _number(p["refusals_no_place"])),
        "returns_to_street": {"exits_with_code": _number(p["returns"]["exits"]), "within_6_months":
                              _number(p["returns"][6]),
                              "within_12_months": _number(p["returns"][12])},
        "months": [{"month": m["month"].isoformat()[:7], "places": m["places"],
                    "place_nights": m["place_nights"], "person_nights": _number(m["person_nights"]),
                    "occupancy_rate": None if m["rate"] is None else round(m["rate"], 2)}
                   for m in p["months"]]}


@bp.route("/api/v1/plan/coverage", methods=["GET"])
@allow(*READERS)
def read_coverage():
    try:
        day = _day("on")
    except ValidationError as error:
        return _errors(error)
    coverage = card.coverage(day)
    estimate = coverage["estimate"]
    return jsonify(on=day.isoformat(), suppression=describe(current_rules()),
                   persons=_number(coverage["persons"]), estimate=None if estimate is None else {
                       "on": estimate.estimated_on.isoformat(), "area": estimate.area,
                       "low": estimate.low, "high": estimate.high, "source": estimate.source},
                   coverage_low=None if coverage["low"] is None else round(coverage["low"], 2),
                   coverage_high=None if coverage["high"] is None else round(coverage["high"], 2))


# --- OpenAPI ---------------------------------------------------------------------

_VALUE = {"type": "object", "properties": _VALUE_PROPS}
_AMOUNTS = {"planned": {"type": "number"}, "committed": {"type": "number"},
            "spent": {"type": "number"}}
_STATUS = {"type": "string", "enum": ["not_started", "started", "partly_done", "done", "abandoned"]}
_COUNTS = {"type": "object", "properties": {s: {"type": "integer"} for s in _STATUS["enum"]}}
_SUPPRESSION = {"type": "object",
                "description": "Secret statistique appliqué aux effectifs de personnes",
                "properties": {"applied": {"type": "boolean"}, "method": {"type": "string"},
                               "threshold": {"type": "integer"}, "max_noise": {"type": "integer"}}}

OPENAPI_SCHEMAS = {
    "PlanProgress": {"type": "object", "required": ["on", "counts", "axes"], "properties": {
        "on": {"type": "string", "format": "date"}, "counts": _COUNTS,
        "axes": {"type": "array", "items": {"type": "object", "properties": {
            "number": {"type": "string"}, "title": {"type": "string"}, "counts": _COUNTS,
            "actions": {"type": "array", "items": {"type": "object", "properties": {
                "number": {"type": "string"}, "title": {"type": "string"}, "status": _STATUS,
                "since": {"type": ["string", "null"], "format": "date"},
                "reason": {"type": ["string", "null"]}, "evidence": {"type": ["string", "null"]},
                "late_milestones": {"type": "array", "items": {"type": "object", "properties": {
                    "title": {"type": "string"},
                    "due_on": {"type": "string", "format": "date"}}}}}}}}}}},
        "example": {"on": "2021-06-30",
                    "counts": {"not_started": 2, "started": 9, "partly_done": 10, "done": 9,
                               "abandoned": 3}, "axes": []}},
    "PlanBudgets": {"type": "object",
                    "required": ["years", "total", "by_funder", "by_axis", "by_action", "lines"],
                    "description": "Montants en euros, non protégés (ce ne sont pas des données de "
                                   "personnes)",
                    "properties": {
                        "years": {"type": "array", "items": {"type": "integer"}},
                        "total": {"type": "object", "properties": _AMOUNTS},
                        "by_funder": {"type": "array", "items": {"type": "object", "properties": {
                            "funder": {"type": "string"}, "label": {"type": "string"},
                            **_AMOUNTS}}},
                        "by_axis": {"type": "array", "items": {"type": "object", "properties": {
                            "axis": {"type": "string"}, **_AMOUNTS}}},
                        "by_action": {"type": "array", "items": {"type": "object", "properties": {
                            "axis": {"type": "string"}, "action": {"type": "string"}, **_AMOUNTS}}},
                        "lines": {"type": "array", "items": {"type": "object", "properties": {
                            "action": {"type": "string"}, "funder": {"type": "string"},
                            "year": {"type": "integer"}, **_AMOUNTS}}}}},
    "PlanPlaces": {"type": "object", "required": ["period", "suppression", "programmes"],
                   "properties": {
        "period": {"type": "object", "properties": {"from": {"type": "string", "format": "date"},
                                                    "to": {"type": "string", "format": "date"}}},
        "suppression": _SUPPRESSION,
        "programmes": {"type": "array", "items": {"type": "object", "properties": {
            "programme": {"type": "string"}, "places_end": {"type": "integer"},
            "place_nights": {"type": "integer"},
            "person_nights": _VALUE, "occupancy_rate": {"type": ["number", "null"]},
            "stays_completed": _VALUE,
            "median_days": {"type": ["number", "null"]}, "stays_open": _VALUE,
            "stay_length_buckets": {"type": "array", "items": _VALUE},
            "exits": {"type": "array", "items": _VALUE}, "exits_stable_housing": _VALUE,
            "refusals_no_place": {"oneOf": [_VALUE, {"type": "null"}]},
            "returns_to_street": {"type": "object", "properties": {
                "exits_with_code": _VALUE, "within_6_months": _VALUE, "within_12_months": _VALUE}},
            "months": {"type": "array", "items": {"type": "object", "properties": {
                "month": {"type": "string"}, "places": {"type": "integer"},
                "place_nights": {"type": "integer"},
                "person_nights": _VALUE, "occupancy_rate": {"type": ["number", "null"]}}}}}}}}},
    "PlanCoverage": {"type": "object", "required": ["on", "persons", "estimate"], "properties": {
        "on": {"type": "string", "format": "date"}, "suppression": _SUPPRESSION, "persons": _VALUE,
        "estimate": {"type": ["object", "null"], "properties": {
            "on": {"type": "string", "format": "date"}, "area": {"type": "string"},
            "low": {"type": "integer"}, "high": {"type": "integer"}, "source": {"type": "string"}}},
        "coverage_low": {"type": ["number", "null"]},
        "coverage_high": {"type": ["number", "null"]}},
        "example": {"on": "2021-12-31",
                    "persons": {"value": 512, "shown": "512", "suppressed": False},
                    "estimate": {"on": "2021-06-01", "area": "Paris intra-muros", "low": 700,
                                 "high": 800,
                                 "source": "Audit"}, "coverage_low": 64.0, "coverage_high": 73.14}},
}

_BAD = {"400": {"description": "Paramètre refusé : date illisible, début après la fin, période de "
                               "plus de dix ans", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/QueryErrors"}}}}}
_PERIOD = [_param("from", "Premier jour (AAAA-MM-JJ ; défaut : les 12 mois finissant à « to »)",
                  {"type": "string", "format": "date"}),
           _param("to", "Dernier jour (AAAA-MM-JJ ; défaut : aujourd'hui)",
                  {"type": "string", "format": "date"})]
_ON = ([_param("on", "Date d'observation (AAAA-MM-JJ ; défaut : aujourd'hui)",
               {"type": "string", "format": "date"})])


def _get(summary, operation, schema, parameters, extra=None):
    return {"get": {"summary": summary, "operationId": operation, "security": [{"bearer": []}],
                    "parameters": parameters, "responses": {
                        "200": {"description": summary, "content": {"application/json": {
                            "schema": {"$ref": f"#/components/schemas/{schema}"}}}}, **_BAD,
                        **(extra or {}), **_ERRORS}}}


OPENAPI_PATHS = {
    "/api/v1/plan/progress": _get("Avancement des actions à une date (statuts, jalons en retard)",
                                  "readPlanProgress",
                                  "PlanProgress", _ON,
                                  {"404": {"description": "Aucun plan installé"}}),
    "/api/v1/plan/budgets": _get("Budgets prévus, engagés, payés par financeur, axe et action "
                                 "(années civiles de la période)", "readPlanBudgets", "PlanBudgets",
                                 _PERIOD),
    "/api/v1/plan/places": _get("Places, occupation, séjours, sorties et retours à la rue par "
                                "programme",
                                "readPlanPlaces", "PlanPlaces", _PERIOD),
    "/api/v1/plan/coverage": _get("Couverture : personnes rencontrées sur 12 mois ÷ estimation de "
                                  "population",
                                  "readPlanCoverage", "PlanCoverage", _ON),
}
