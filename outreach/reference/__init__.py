"""Reference lists (materials, destinations, programmes, reasons, sectors...) editable by admins."""
from ..access import Blueprint

bp = Blueprint("reference", __name__, roles={"admin"})

from . import views  # noqa: F401
