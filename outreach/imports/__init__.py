"""Import of existing records (paper or spreadsheet tallies) from a CSV/XLSX template."""
from ..access import Blueprint

bp = Blueprint("imports", __name__, roles={"supervisor", "admin"}, cli_group=None)

from . import cli, views  # noqa: F401
