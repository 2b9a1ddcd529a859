"""Query arguments of every read: the API, the indicator pages (dashboard, drill-down, funnel) and
the exports call this module, so an argument set is accepted or refused alike everywhere.

- ``period``: last12 (default, the last 12 complete months), month, quarter, year or custom; custom
  when ``from`` or ``to`` is given without ``period``.
- ``from``, ``to``, ``month``: ``YYYY-MM`` (a whole month) or ``YYYY-MM-DD`` (a day: its month for
  the indicators, the day itself for the lists), years 2000 to 2100. ``to`` alone: the twelve months
  up to it; ``from`` alone: up to this month. ``to`` before ``from``: refused, naming both.
- ``organisation``, ``team``, ``sector``: codes; an unknown code is refused, naming the argument.
- ``provisional``: ``1`` or ``true`` adds the shifts not yet validated.

Every refusal is a ``BadQuery`` (a ValidationError whose ``errors`` name the arguments, in the
interface language): the pages and exports answer it with 400 and the list of errors, the API with
400 and JSON.
"""
import re
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from .access import organisation_scope
from .errors import ValidationError
from .extensions import db
from .indicators.rollups import add_months, month_start
from .models import Organisation, Sector, Team

FIRST_YEAR, LAST_YEAR = 2000, 2100
KINDS = ("last12", "month", "quarter", "year", "custom")
CODE_MODELS = {"organisation": Organisation, "team": Team, "sector": Sector}
TRUE = ("1", "true")
_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


class BadQuery(ValidationError):
    """A query argument refused: 400 naming it."""


def parse_day(text, field, last=False):
    """The date of ``YYYY-MM-DD``, or of ``YYYY-MM``: its first day (its last one when ``last``)."""
    text = str(text).strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text if len(text) == 10 else text + "-01")
    except ValueError:
        raise BadQuery({field: _("Date invalide (attendu AAAA-MM ou AAAA-MM-JJ).")}) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadQuery(
            {field: _("Année hors limites (%(low)s à %(high)s).", low=FIRST_YEAR, high=LAST_YEAR)})
    if last and len(text) == 7:
        return add_months(day, 1) - timedelta(days=1)
    return day


def parse_days(args):
    """(first day or None, last day or None) of ``from`` and ``to``; ``to`` before ``from`` is
    refused."""
    start = parse_day(args["from"], "from") if args.get("from") else None
    end = parse_day(args["to"], "to", last=True) if args.get("to") else None
    if start and end and end < start:
        raise _reversed()
    return start, end


def _reversed():
    return BadQuery({"from": _("Le début de la période (from) doit précéder sa fin (to)."),
                     "to": _("La fin de la période (to) doit suivre son début (from).")})


def parse_period(args, today=None):
    """The indicators' Period (whole months) of the query arguments."""
    from .indicators.services import Period, local_today
    today = today or local_today()
    kind = args.get("period") or ("custom" if args.get("from") or args.get("to") else "last12")
    this_month = month_start(today)
    if kind not in KINDS:
        raise BadQuery({"period": _("Période inconnue (last12, month, quarter, year ou custom).")})
    if kind in ("month", "quarter"):
        start = month_start(parse_day(args.get("month") or this_month.isoformat(), "month"))
        if kind == "quarter":
            start = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        return Period(start, add_months(start, 2 if kind == "quarter" else 0), kind)
    if kind == "year":
        year = parse_year(args.get("year") or str(today.year))
        return Period(date(year, 1, 1), date(year, 12, 1), kind)
    if kind == "custom":
        return Period(*_custom_months(args, this_month), kind)
    return Period(add_months(this_month, -12), add_months(this_month, -1), "last12")


def _custom_months(args, this_month):
    from .indicators.services import check_period_length
    start, end = parse_days(args)
    end = month_start(end) if end else this_month
    start = month_start(start) if start else add_months(end, -11)
    if end < start:
        raise _reversed()
    try:
        check_period_length(start, end)
    except ValidationError as error:
        raise BadQuery(error.errors) from None
    return start, end


def parse_year(text):
    text = str(text).strip()
    if not (text.isascii() and text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR):
        raise BadQuery({"year": _("Année invalide.")})
    return int(text)


def parse_filters(args, user):
    """Filters (ids) of the ``organisation``, ``team`` and ``sector`` codes and ``provisional``; a
    user bound to an organisation reads only it (another organisation's code then matches
    nothing)."""
    filters = {"include_provisional": args.get("provisional") in TRUE}
    unknown = {}
    for key, model in CODE_MODELS.items():
        code = args.get(key)
        if not code:
            continue
        found = code_id(model, code)
        if found is None:
            unknown[key] = _("Code inconnu : « %(code)s ».", code=shown_code(code))
        else:
            filters[f"{key}_id"] = found
    if unknown:
        raise BadQuery(unknown)
    scope = organisation_scope(user)
    if scope is not None:
        filters["organisation_id"] = (scope if filters.get("organisation_id") in (None, scope)
                                      else -1)
    return filters


MAX_CODE = 100
SHOWN_CODE = 40


def plausible_code(code, max_length=MAX_CODE):
    """False for what no code can be, nor any other key a request asks to look up (an id, an e-mail
    address): not text, over ``max_length`` characters, or holding a NUL byte (PostgreSQL refuses
    NUL in a text parameter: asked as is, a 500 instead of "unknown")."""
    return isinstance(code, str) and "\x00" not in code and len(code) <= max_length


def shown_code(code):
    """``code`` as a refusal repeats it: without NUL bytes, ``SHOWN_CODE`` characters at most."""
    return str(code).replace("\x00", "")[:SHOWN_CODE]


def code_id(model, code):
    """The id of the entry whose code is ``code``, else None."""
    if not plausible_code(code):
        return None
    return db.session.execute(select(model.id).filter_by(code=code)).scalar()


def parse_choice(args, field, choices):
    """``args[field]`` when it is one of ``choices``, None when absent; refused otherwise."""
    value = args.get(field)
    if not value:
        return None
    if value not in choices:
        raise BadQuery(
            {field: _("Valeur inconnue (attendu : %(choices)s).", choices=", ".join(choices))})
    return value


def parse_int(args, field, default, low, high):
    text = args.get(field)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
        raise BadQuery(
            {field: _("Nombre entier attendu entre %(low)s et %(high)s.", low=low, high=high)})
    return int(text)


# --- OpenAPI description of the shared arguments (the API documents what this module parses) ------

_DAY_OR_MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}(-\d{2})?$",
                 "examples": ["2026-03", "2026-03-15"]}


def query_param(name, description, schema, example=None):
    param = {"name": name, "in": "query", "required": False, "description": description,
             "schema": schema}
    if example is not None:
        param["example"] = example
    return param


_P = query_param
OPENAPI_PARAMETERS = {
    "period": _P("period", "last12 (défaut : les 12 derniers mois complets), month, quarter, year "
                           "ou custom ; custom quand from ou to est donné seul",
                 {"type": "string", "enum": list(KINDS)}),
    "month": _P("month", "Mois de period=month ou quarter (AAAA-MM ou AAAA-MM-JJ)", _DAY_OR_MONTH,
                "2026-03"),
    "year": _P("year", "Année de period=year",
               {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}),
    "from": _P("from", "Début : AAAA-MM (le mois entier) ou AAAA-MM-JJ ; années 2000 à 2100 ; "
                       "après to : 400 nommant from et to", _DAY_OR_MONTH, "2026-01"),
    "to": _P("to",
             "Fin : AAAA-MM (le mois entier) ou AAAA-MM-JJ ; seul : les 12 mois qui s'y terminent",
             _DAY_OR_MONTH, "2026-03-31"),
    "organisation": _P("organisation", "Code d'organisation (code inconnu : 400)",
                       {"type": "string"}, "aurore"),
    "team": _P("team", "Code d'équipe (code inconnu : 400)", {"type": "string"}, "aurore_nord"),
    "sector": _P("sector", "Code de secteur (code inconnu : 400)", {"type": "string"},
                 "stalingrad"),
    "provisional": _P("provisional", "1 ou true : inclure les maraudes non validées",
                      {"type": "string", "enum": ["0", "1", "false", "true"]}),
}
