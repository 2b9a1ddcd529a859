"""Accounts (invite, disable, roles, teams, unlock, TOTP) and the audit log viewer."""
from ..access import Blueprint

bp = Blueprint("admin", __name__, roles={"admin"})

from . import views  # noqa: F401
