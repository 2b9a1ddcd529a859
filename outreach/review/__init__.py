"""Supervisor review: team board, shift summary, validation, corrections with reasons, week view."""
from ..access import Blueprint

bp = Blueprint("review", __name__, roles={"supervisor", "admin"}, url_prefix="/revue")

from . import views  # noqa: F401
