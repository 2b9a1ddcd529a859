from ..access import ANY_ROLE, Blueprint

bp = Blueprint("auth", __name__, roles=ANY_ROLE)

from . import views  # noqa: F401
