"""Access declared once per blueprint, enforced on the server for every request.

Every blueprint is an ``outreach.access.Blueprint`` that names the roles it
admits; a view may narrow or widen that with ``@allow(...)`` or ``@public``.
An endpoint with no rule at all is refused (fail closed), and
``tests/test_access.py`` walks ``app.url_map`` to prove each rule.

Row scope (organisation, team) is applied by ``scope_to_user`` in queries.
"""
import flask
from flask import current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .models import ROLES

ANY_ROLE = frozenset(ROLES)
PUBLIC = "public"
PUBLIC_ENDPOINTS = {"static", "healthz"}

HOME_ENDPOINTS = {
    "worker": "shifts.current",
    "supervisor": "review.board",
    "manager": "indicators.dashboard",
    "admin": "admin.users",
}


class Blueprint(flask.Blueprint):
    """A blueprint that declares who may use it: ``Blueprint("x", __name__, roles={...})``."""

    def __init__(self, name, import_name, *, roles, api=False, **kwargs):
        super().__init__(name, import_name, **kwargs)
        self.roles = PUBLIC if roles == PUBLIC else frozenset(roles)
        self.is_api = api


def allow(*roles):
    """Override the blueprint's roles for one view."""
    def decorate(view):
        view.access_roles = frozenset(roles)
        return view
    return decorate


def public(view):
    """Mark one view as reachable without logging in (login page, manifest...)."""
    view.access_roles = PUBLIC
    return view


PLAN_LEVEL = frozenset({"manager", "admin"})


def plan_level(view):
    """Shared data (reference lists, sectors, the plan catalogue) every organisation sees: changed only by plan
    managers and instance admins, never by one organisation's admin."""
    view.access_roles = PLAN_LEVEL
    view.plan_level = True
    return view


def is_plan_level(user):
    """Plan managers and instance admins (an admin with no organisation)."""
    return user.role == "manager" or (user.role == "admin" and user.organisation_id is None)


def needs_plan_level(app, endpoint):
    return bool(getattr(app.view_functions.get(endpoint), "plan_level", False))


def rule_for(app, endpoint):
    """The roles admitted at ``endpoint``, PUBLIC, or None when nothing was declared."""
    if endpoint in PUBLIC_ENDPOINTS:
        return PUBLIC
    view = app.view_functions.get(endpoint)
    declared = getattr(view, "access_roles", None)
    if declared is not None:
        return declared
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0]) if "." in endpoint else None
    return getattr(blueprint, "roles", None)


def is_api_endpoint(app, endpoint):
    blueprint = app.blueprints.get((endpoint or "").rpartition(".")[0])
    return bool(getattr(blueprint, "is_api", False))


def _deny(status):
    if is_api_endpoint(current_app, request.endpoint) or request.path.startswith("/api/"):
        message = _("authentification requise") if status == 401 else _("accès refusé")
        return jsonify(error=message), status
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    flask.abort(403)


def check_access():
    """before_request: refuse anything the declared rule does not admit."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404/405 are answered by Flask itself
    roles = rule_for(current_app, endpoint)
    if roles == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return _deny(401)
    if roles is None or current_user.role not in roles:
        return _deny(403)
    if needs_plan_level(current_app, endpoint) and not is_plan_level(current_user):
        return _deny(403)
    g.user = current_user
    return None


def home_url(user):
    endpoint = HOME_ENDPOINTS.get(user.role)
    if endpoint in current_app.view_functions:
        return url_for(endpoint)
    return url_for("auth.home_fallback")


def organisation_scope(user):
    """None for plan managers and instance admins (every organisation), else their organisation id."""
    if user.role == "manager" or (user.role == "admin" and user.organisation_id is None):
        return None
    return user.organisation_id


def scope_to_user(query, model, user):
    """Restrict a query on a model with ``organisation_id`` to what ``user`` may see."""
    org_id = organisation_scope(user)
    return query if org_id is None else query.filter(model.organisation_id == org_id)


def can_see_organisation(user, organisation_id):
    org_id = organisation_scope(user)
    return org_id is None or org_id == organisation_id


def init_app(app):
    app.before_request(check_access)
