"""JSON API (token or session). Read routes live in ``read.py``; the OpenAPI document in
``openapi.py``."""
from ..access import Blueprint

bp = Blueprint("api", __name__, roles={"worker", "supervisor", "manager", "admin"}, api=True)

from . import lists, openapi, read, review, write  # noqa: F401
