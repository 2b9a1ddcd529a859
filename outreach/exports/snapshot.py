"""Open-data snapshot: protected aggregates only, in an SQLite file ready for Datasette.

No table holds a person, a contact or a code: only indicator values by month,
organisation and sector (protected as for a plan manager: ``note()``), the plan catalogue and
the pathway funnel. Descriptions go to a ``_descriptions`` table and a Datasette
``metadata.json`` written next to the file.
"""
import json
import os
from types import SimpleNamespace

from ..indicators import services as ind
from ..indicators.rollups import add_months
from ..indicators.suppression import Hidden, rules_for
from ..planexec import opendata as plan_execution
from ..signoff.services import month_states
from . import tables

# protected as for a plan manager
PUBLIC_READER = SimpleNamespace(role="manager", organisation_id=None)

DESCRIPTIONS = {
    "plan_indicators": (("Catalogue of the plan's indicators (illustrative unless an official list "
                        "was loaded)."), {
        "code": "Stable indicator code", "axis": "Plan axis number and title",
        "action": "Plan action number",
        "action_title": "Plan action title", "name": "Indicator name (French)",
        "definition": "Plain-French definition", "unit": "Unit",
        "direction": "higher or lower is better"}),
    "indicator_by_month": ("Each indicator by month, all organisations together.", {
        "indicator": "Indicator code (see plan_indicators)", "month": "First day of the month",
        "value": "Value as published (perturbed); NULL when withheld or not available",
        "shown": "Value as published ('< 5': withheld)",
        "month_state": ("Sign-off state of the month's figures, in French: 'Provisoire' (not "
                        "signed off, or returned or reopened), 'Signé' (signed off by every "
                        "organisation that worked that month), 'Accepté' (accepted by a plan "
                        "manager); the least advanced state of those organisations")}),
    "indicator_by_organisation": (
        ("Each indicator over the snapshot period, for each organisation alone: its "
         "distinct and new persons are among the persons it met, its persons met by "
         "2+ organisations are those it met who were also met by another one."), {
        "indicator": "Indicator code", "organisation": "Organisation name",
        "period_from": "First month",
        "period_to": "Last month", "value": "Value as published (perturbed); NULL when withheld",
        "shown": "Value as published"}),
    "indicator_by_sector": (
        ("Each indicator over the snapshot period, by sector (material, orientations, "
         "referrals and shifts are not broken down by sector)."), {
        "indicator": "Indicator code", "sector": "Sector label", "period_from": "First month",
        "period_to": "Last month",
        "value": "Value as published (perturbed); NULL when withheld or not available",
        "shown": "Value as published"}),
    "funnel_by_programme": ("Shelter referral pathway by programme over the snapshot period.", {
        "programme": "Programme", "step": "Step of the pathway",
        "value": "Count as published (perturbed); NULL when withheld",
        "shown": "Value as published"}),
    **plan_execution.OPEN_DATA_DESCRIPTIONS,
}
NUMBERS = {"value", *plan_execution.OPEN_DATA_NUMBERS}
NOTE = ("Disclosure control (cell-key perturbation, as the ABS TableBuilder and the ONS census): "
        "every count is shifted by at most {d}, always by the same amount for the same records, "
        "and every count below {n} (zero included) is withheld and shown as '< {n}'; ratios and "
        "medians are computed from published counts. Subtracting tables never gives back an "
        "organisation's small count; a total may differ from the sum of its rows by a few units.")


def note():
    rules = rules_for(PUBLIC_READER)
    if rules is None:
        return "Disclosure control turned off on this instance (test setting): exact figures."
    return NOTE.format(d=rules.noise, n=rules.threshold)


def _number(value):
    return None if value is None or isinstance(value, Hidden) else tables.cell(value)


def _shown(value):
    return "" if value is None else str(value) if isinstance(value,
                                                             Hidden) else str(tables.cell(value))


def _catalogue(plan):
    for axis in plan.axes:
        for action in axis.actions:
            for item in action.indicators:
                yield {"code": item.code, "axis": f"{axis.number} {axis.title}",
                       "action": action.number,
                       "action_title": action.title, "name": item.name,
                       "definition": item.definition,
                       "unit": item.unit, "direction": item.direction}


def _breakdown_rows(indicators, period, by):
    for item in indicators:
        rows, _total = ind.breakdown(item, period, {}, PUBLIC_READER, by)
        for label, value in rows:
            yield {"indicator": item.code, by: label, "period_from": period.start.isoformat(),
                   "period_to": period.end.isoformat(), "value": _number(value),
                   "shown": _shown(value)}


def _months(indicators, period):
    months = [add_months(period.start, i) for i in range(period.months)]
    states = month_states(months)
    for item in indicators:
        rows, _total = ind.breakdown(item, period, {}, PUBLIC_READER, "month")
        for month, (_label, value) in zip(months, rows):
            yield {"indicator": item.code, "month": month.isoformat(), "value": _number(value),
                   "shown": _shown(value), "month_state": tables.month_state_label(states[month])}


def _funnel(period):
    _chain, by_programme = tables.funnel_sheets(period, {}, PUBLIC_READER)[0]
    steps = by_programme.header[1:]
    for row in by_programme.rows:
        for step, value in zip(steps, row[1:]):
            yield {"programme": row[0], "step": step,
                   "value": value if isinstance(value, (int, float)) else None,
                   "shown": "" if value is None else str(value)}


def write_snapshot(path, period):
    """Write the snapshot to ``path`` (replaced) and metadata.json next to it; returns {table:
    rows}."""
    import sqlite_utils
    if os.path.exists(path):
        os.remove(path)
    database = sqlite_utils.Database(path)
    plan = ind.load_plan()
    indicators = [i for axis in plan.axes for a in axis.actions
                  for i in a.indicators] if plan else []
    content = {
        "plan_indicators": list(_catalogue(plan)) if plan else [],
        "indicator_by_month": list(_months(indicators, period)),
        "indicator_by_organisation": list(_breakdown_rows(indicators, period, "organisation")),
        "indicator_by_sector": list(_breakdown_rows(indicators, period, "sector")),
        "funnel_by_programme": list(_funnel(period)),
        **plan_execution.open_data_rows(period),
    }
    for name, rows in content.items():
        columns = {c: (float if c in NUMBERS else str) for c in DESCRIPTIONS[name][1]}
        database[name].create(columns)
        database[name].insert_all(rows)
    _describe(database, path, period)
    return {name: len(rows) for name, rows in content.items()}


def _describe(database, path, period):
    rows = [{"table_name": t, "column_name": "", "description": d}
            for t, (d, _c) in DESCRIPTIONS.items()]
    rows += [{"table_name": t, "column_name": c, "description": text}
             for t, (_d, cols) in DESCRIPTIONS.items() for c, text in cols.items()]
    rows.append({"table_name": "*", "column_name": "", "description": note()})
    database["_descriptions"].insert_all(rows)
    name = os.path.splitext(os.path.basename(path))[0]
    metadata = {"title": "Outreach plan indicators (open data)",
                "description": f"{note()} Period: {period.start.isoformat()} to "
                               f"{period.end.isoformat()[:7]}.",
                "databases": {name: {"tables": {
                    t: {"description": d, "columns": cols}
                    for t, (d, cols) in DESCRIPTIONS.items()}}}}
    with open(metadata_path(path), "w", encoding="utf-8") as handle:
        json.dump(metadata, handle, ensure_ascii=False, indent=2)


def metadata_path(path):
    return os.path.join(os.path.dirname(os.path.abspath(path)), "metadata.json")
