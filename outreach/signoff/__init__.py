"""Monthly sign-off chain (issue 21 item 5): once the shifts of a month are validated, the
organisation's admin signs the month off; a plan manager accepts it or returns it with a comment; an
accepted month is corrected only after being reopened with a reason. Every figure says which months
are provisional, signed off or accepted."""
from ..access import Blueprint

# Supervisors read their organisation's months (what to fix); the admin signs; plan managers accept
# or return.
bp = Blueprint("signoff", __name__, roles={"supervisor", "manager", "admin"}, url_prefix="/mois")

from . import views  # noqa: F401
