"""Shifts (maraudes): start, log contacts in, close."""
from ..access import Blueprint

bp = Blueprint("shifts", __name__, roles={"worker", "supervisor"})

from . import views  # noqa: F401
