"""Field logging: contacts inside an open shift."""
from ..access import Blueprint

bp = Blueprint("contacts", __name__, roles={"worker", "supervisor"})

from . import views  # noqa: F401
