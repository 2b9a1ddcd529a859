"""Reference lists (materials, destinations, programmes, reasons, sectors...): every organisation
reads and shares them, so plan managers and instance admins change them (``access.plan_level``)."""
from ..access import Blueprint

bp = Blueprint("reference", __name__, roles={"admin", "manager"})

from . import views  # noqa: F401
