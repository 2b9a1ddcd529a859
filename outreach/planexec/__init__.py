"""Plan execution: places and occupancy, action progress, budgets, coverage, and the plan's report
card.

Plan managers and admins read and edit (an organisation's admin enters the places its organisation
operates); workers and supervisors have no business here. Person-derived figures (stays, exits,
returns, persons met) go through ``protection.protect_count``; places, statuses and budgets are not
person data and are shown as entered."""
from ..access import Blueprint

bp = Blueprint("planexec", __name__, roles={"manager", "admin"}, url_prefix="/execution")

from . import rollup, views  # noqa: F401 (rollup: its refresher joins the roll-ups' catch-up)
