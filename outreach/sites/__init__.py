"""Sites (named spots of the street), observations per site visit during a shift, and the map.

The register of sites and its list of types are shared by every organisation: plan managers and
instance admins change them (``access.plan_level``); everyone reads them. Observations belong to an
organisation.
"""
from ..access import Blueprint

bp = Blueprint("sites", __name__, roles={"worker", "supervisor", "manager", "admin"})
api_bp = Blueprint("api", __name__, roles={"worker", "supervisor"}, api=True)

from . import api, views  # noqa: F401

bp.register_blueprint(api_bp)
