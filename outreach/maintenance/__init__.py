"""Maintenance commands: retention purge, pseudonym key rotation, backup and restore.

No web routes: only ``flask --app wsgi purge | rotate-pseudonym-key | backup | restore``."""
from ..access import Blueprint

bp = Blueprint("maintenance", __name__, roles={"admin"}, cli_group=None)

from . import cli  # noqa: F401
