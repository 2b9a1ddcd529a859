"""Application-wide routes and error pages: health check, language choice, errors."""
import logging

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import __version__
from .errors import Conflict, Forbidden, ValidationError
from .extensions import LOCALES, db
from .labels import label

logger = logging.getLogger("outreach")

ERROR_MESSAGES = {
    400: _l("La demande est incorrecte."),
    401: _l("Connectez-vous pour continuer."),
    403: _l("Vous n'avez pas accès à cette page."),
    404: _l("Cette page n'existe pas."),
    405: _l("Cette action n'est pas possible ici."),
    409: _l("Conflit : la donnée a changé entre-temps. Rechargez la page."),
    413: _l("Le fichier envoyé est trop volumineux."),
    422: _l("Certaines valeurs sont invalides."),
    429: _l("Trop de tentatives. Patientez quelques minutes avant de réessayer."),
    500: _l("Une erreur est survenue de notre côté. Rien n'a été enregistré."),
}


def healthz():
    db.session.execute(db.text("SELECT 1"))
    return jsonify(status="ok", version=__version__)


def set_language(code):
    from .security import safe_next
    response = redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
    if code in LOCALES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def handle_http_error(error):
    status = error.code or 500
    message = str(ERROR_MESSAGES.get(status, ERROR_MESSAGES[400]))
    if isinstance(error, CSRFError):
        message = _("Le formulaire a expiré ou n'est pas valide (jeton CSRF). Rechargez la page et recommencez.")  # noqa: E501
    response = jsonify(error=message) if _wants_json() else render_template(
        "errors/error.html", status=status, message=message)
    return response, status, _kept_headers(error)


def _kept_headers(error):
    """The headers the error itself carries (a 405's ``Allow``, a 429's ``Retry-After``), not its
    type."""
    return [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]


def handle_unexpected(error):
    """Never a bare 500 page: roll back (nothing half-written) and answer clearly."""
    db.session.rollback()
    logger.exception("unexpected error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def attempt(write, refused, field):
    """Run ``write()`` and flush: (its result, None). When a service refuses, nothing stays written
    (the session is rolled back) and the answer is (None, ``refused(errors, status)``), the form
    again naming what was refused: a ValidationError's fields (422); a Forbidden (403), a Conflict
    or a row written by someone else at the same moment (IntegrityError: 409), under ``field``."""
    try:
        result = write()
        db.session.flush()
        return result, None
    except ValidationError as exc:
        errors, status = exc.errors, 422
    except Forbidden as exc:
        errors, status = {field: str(exc)}, 403
    except Conflict as exc:
        errors, status = {field: str(exc)}, 409
    except IntegrityError:
        errors, status = {field: _("Cette donnée vient d'être modifiée par quelqu'un d'autre. "
                                   "Rechargez la page.")}, 409
    db.session.rollback()
    return None, refused(errors, status)


NAV = {
    "worker": [("shifts.current", _l("Maraude")),
               ("referrals.index", _l("Orientations hébergement"))],
    "supervisor": [("review.board", _l("Équipes")),
                   ("referrals.index", _l("Orientations hébergement")),
                   ("indicators.dashboard", _l("Indicateurs")), ("imports.index", _l("Import")),
                   ("sites.map_page", _l("Sites"))],
    "manager": [("indicators.dashboard", _l("Indicateurs")), ("indicators.funnel", _l("Parcours")),
                ("indicators.catalogue", _l("Plan")),
                ("planexec.card_page", _l("Exécution du plan")),
                ("reference.index", _l("Listes")), ("sites.map_page", _l("Sites")),
                ("signoff.index", _l("Mois"))],
    "admin": [("admin.users", _l("Utilisateurs")), ("reference.index", _l("Listes")),
              ("admin.audit", _l("Journal")), ("imports.index", _l("Import")),
              ("planexec.places", _l("Places")), ("signoff.index", _l("Mois"))],
}


def _template_helpers():
    from flask import current_app
    from flask_babel import get_locale
    from flask_login import current_user

    def has_endpoint(endpoint):
        return endpoint in current_app.view_functions

    def nav_items():
        role = current_user.role if current_user.is_authenticated else None
        return [(e, label) for e, label in NAV.get(role, []) if has_endpoint(e)]

    return {"has_endpoint": has_endpoint, "nav_items": nav_items,
            "role_label": lambda role: label("role", role),
            "current_locale": lambda: str(get_locale() or "fr")}


def init_app(app):
    app.context_processor(_template_helpers)
    from .access import public
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/langue/<code>", "set_language", public(set_language))
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
