"""Exports: dashboard views as CSV/XLSX (suppressed as on screen), an organisation's own contacts
with per-export codes, and the open-data SQLite snapshot."""
from ..access import Blueprint

bp = Blueprint("exports", __name__, roles={"manager", "supervisor", "admin"}, cli_group=None)

from . import cli, views  # noqa: F401
