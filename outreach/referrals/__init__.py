"""Shelter referrals: the organisation's open referrals and their lifecycle, step by step."""
from ..access import Blueprint

# Workers and supervisors update their organisation's referrals; an admin acts as a supervisor of
# its own organisation (as in review). Plan managers see aggregates only: person-level rows answer
# 403.
bp = Blueprint("referrals", __name__, roles={"worker", "supervisor", "admin"},
               url_prefix="/orientations")

from . import handover, views  # noqa: F401
