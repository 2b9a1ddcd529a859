"""The privacy page (French), generated from the configuration."""
from ..access import Blueprint

bp = Blueprint("privacy", __name__, roles={"worker", "supervisor", "manager", "admin"})

from . import views  # noqa: F401
