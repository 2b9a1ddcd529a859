"""Plan catalogue, indicators from roll-ups, pathway funnel (plan managers; supervisors: own
organisation)."""
from ..access import Blueprint
from .rollups import install_listener

bp = Blueprint("indicators", __name__, roles={"manager", "supervisor"}, cli_group=None)
install_listener()

from . import admissions, cli, views  # noqa: F401 (admissions: its refresher joins the catch-up)
