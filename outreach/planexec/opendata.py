"""Plan execution in the open-data SQLite file (``exports.snapshot``): places, statuses and budgets
as entered; person-derived counts (nights used, stays, exits, returns, persons reached) protected as
on the report card. No import of ``exports`` here: the snapshot imports this module."""
from ..indicators.rollups import add_months
from ..indicators.suppression import Hidden
from .card import report_card
from .measures import ONE_DAY, Period, budget_lines


def _euros(cents):
    return round(cents / 100, 2)



OPEN_DATA_DESCRIPTIONS = {
    "plan_action_status": (
        ("Each plan action's status on the snapshot's last day (from its dated history) and its "
         "late milestones; not person data."), {
        "action": "Plan action number", "action_title": "Plan action title", "status":
        "not_started, started, partly_done, done or abandoned", "since": "Date of that status",
        "late_milestones": "Milestones due before that day and not done by it"}),
    "plan_budget": (
        ("Budget lines per action, funder and year, in euros, as entered by plan managers (not "
         "protected: not person data)."), {
        "action": "Plan action number", "funder": "Funder code", "year": "Calendar year",
        "planned": "Initial commitment (euros)", "committed": "Committed (euros)",
        "spent": "Spent (euros)"}),
    "plan_places_by_month": (("Places and occupancy per shelter programme and month, all operators "
                             "together."), {
        "programme": "Programme code", "month": "First day of the month",
        "places": "Places on the month's last day",
        "place_nights": "Place-nights available",
        "nights_used": "Nights used by stays, as published (perturbed); "
        "NULL when withheld", "nights_used_shown": "As published ('< 5': withheld)",
        "occupancy": "nights_used / place_nights in percent, from the published count; NULL when "
                     "withheld"}),
    "plan_stays": (("Stays, exits and returns to the street per programme over the snapshot period "
                    "(protected as every count here)."), {
        "programme": "Programme code",
        "figure": "stays_completed, stays_open, exits_stable_housing, exits_with_code, "
        "returns_6_months, returns_12_months, refusals_no_place",
        "value": "Count as published; NULL when withheld",
        "shown": "As published ('< 5': withheld)"}),
    "plan_coverage": ("Persons met over 12 months against the latest street-population estimate.", {
        "on": "Last day of the snapshot",
        "reached": "Distinct people met (the dashboard's file active), as "
        "published; NULL when withheld", "estimate_low": "Estimate (low)",
        "estimate_high": "Estimate (high)",
        "area": "Area of the estimate", "source": "Source of the estimate",
        "coverage_low": "Coverage, low (%)", "coverage_high": "Coverage, high (%)"}),
}
OPEN_DATA_NUMBERS = {"year", "planned", "committed", "spent", "places", "place_nights",
                     "nights_used",
                     "occupancy", "value", "reached", "estimate_low", "estimate_high",
                     "coverage_low", "coverage_high", "late_milestones"}


def _published(value):
    return None if value is None or isinstance(value, Hidden) else value


def _round(value):
    return None if value is None else round(value, 2)


def open_data_rows(months):
    """{table: rows} of ``OPEN_DATA_DESCRIPTIONS`` over the snapshot's whole ``months`` (first and
    last month); empty without a plan."""
    data = report_card(Period(months.start, add_months(months.end, 1) - ONE_DAY))
    if data is None:
        return {name: [] for name in OPEN_DATA_DESCRIPTIONS}
    return {"plan_action_status": [
                {"action": c.action.number, "action_title": c.action.title, "status": c.status,
                 "since": c.status_change.effective_on.isoformat() if c.status_change else None,
                 "late_milestones": len(c.late)} for axis in data["axes"] for c in axis.actions],
            "plan_budget": [
                {"action": line.action.number, "funder": line.funder.code, "year": line.year,
                 "planned": _euros(line.planned_cents), "committed": _euros(line.committed_cents),
                 "spent": _euros(line.spent_cents)} for line in budget_lines(0, 9999)],
            "plan_places_by_month": [
                {"programme": p["programme"].code, "month": m["month"].isoformat(),
                 "places": m["places"],
                 "place_nights": m["place_nights"], "nights_used": _published(m["person_nights"]),
                 "nights_used_shown": str(m["person_nights"]), "occupancy": _round(m["rate"])}
                for p in data["places"] for m in p["months"]],
            "plan_stays": list(_stay_rows(data)),
            "plan_coverage": [_coverage_row(data)]}


def _stay_rows(data):
    for p in data["places"]:
        figures = {"stays_completed": p["completed"], "stays_open": p["open"],
                   "exits_stable_housing":
                   p["exits_stable"], "exits_with_code": p["returns"]["exits"],
                   "returns_6_months": p["returns"][6],
                   "returns_12_months": p["returns"][12],
                   "refusals_no_place": p["refusals_no_place"]}
        for figure, value in figures.items():
            if value is not None:
                yield {"programme": p["programme"].code, "figure": figure,
                       "value": _published(value), "shown": str(value)}


def _coverage_row(data):
    coverage, estimate = data["coverage"], data["coverage"]["estimate"]
    return {"on": data["period"].last.isoformat(), "reached": _published(coverage["persons"]),
            "estimate_low": estimate.low if estimate else None,
            "estimate_high": estimate.high if estimate else None,
            "area": estimate.area if estimate else None,
            "source": estimate.source if estimate else None,
            "coverage_low": _round(coverage["low"]), "coverage_high": _round(coverage["high"])}
