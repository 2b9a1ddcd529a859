"""Offline-first logging: web app manifest, root-scope service worker, device queue page."""
from ..access import Blueprint

bp = Blueprint("offline", __name__, roles={"worker", "supervisor"})

from . import views  # noqa: F401
