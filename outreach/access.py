"""Access declared once per blueprint, enforced on the server for every request.

Every blueprint is an ``outreach.access.Blueprint`` that names the roles it
admits; a view may narrow or widen that with ``@allow(...)`` or ``@public``.
An endpoint with no rule at all is refused (fail closed), and
``tests/test_access.py`` walks ``app.url_map`` to prove each rule.

Row scope (which organisation's rows a user sees, and for a worker which teams' contacts,
referrals and site observations) is declared once, per model, in ``owners()`` and applied by
``scoped(query, model)`` in queries and ``get_scoped(_or_404)(model, id)`` for one row.
"""
import functools
from typing import Any, NamedTuple

import flask
from flask import current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false
from sqlalchemy.orm import RelationshipProperty

from .extensions import db
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
    """Shared data (reference lists, sectors, the plan catalogue) every organisation sees:
    changed only by plan managers and instance admins, never by one organisation's admin."""
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
    """None for plan managers and instance admins (every organisation), else the user's one."""
    if is_plan_level(user):
        return None
    return user.organisation_id


# --- row scope: which rows of an organisation's data a user may see ---------------------------

PERSON_LEVEL_ROLES = frozenset({"worker", "supervisor", "admin"})


TEAM_NARROWED_ROLES = frozenset({"worker"})


class Owner(NamedTuple):
    """How a scoped model's rows belong: ``organisation`` (the column holding the row's
    organisation id), ``person_level`` (seen only inside that organisation) and ``team`` (the
    column holding the row's team id, a relationship to the ``Contact`` holding it, or None when
    the whole organisation sees the row)."""
    organisation: Any
    person_level: bool
    team: Any = None


@functools.cache
def owners():
    """{model: Owner}: how each scoped row belongs to an organisation, and to a team.

    Person-level rows (shifts, contacts, referrals, site observations) never leave their
    organisation: only that organisation's workers, supervisors and admin see them; a plan
    manager or an instance admin (no organisation) sees none. Within the organisation, a worker
    sees the contacts, referrals and site observations of their own teams only (DOMAIN.md: "own
    team's contacts"), and the organisation's shifts. Other rows (teams, users, organisations,
    places) are seen by their own organisation and by plan-level users. Models not listed are
    shared by every organisation (reference lists, sectors, sites, the plan, coordination
    meetings): scoping one is a mistake (KeyError)."""
    from .models import Contact, Organisation, Referral, Shift, Team, User
    from .planexec_models import PlaceCapacity
    from .site_models import SiteObservation
    person_level = {model: Owner(model.organisation_id, True, model.team_id)
                    for model in (Contact, SiteObservation)}
    person_level[Shift] = Owner(Shift.organisation_id, True)
    person_level[Referral] = Owner(Referral.organisation_id, True, Referral.contact)
    own = {model: Owner(model.organisation_id, False) for model in (Team, User, PlaceCapacity)}
    return {**person_level, **own, Organisation: Owner(Organisation.id, False)}


def sees_person_level(user):
    """Workers, supervisors and admins of an organisation: who alone see person-level rows."""
    return user.role in PERSON_LEVEL_ROLES and user.organisation_id is not None


def _allowed_organisation(model, user):
    """The one organisation id whose ``model`` rows ``user`` sees; None: every one; False: none."""
    if not owners()[model].person_level:
        return organisation_scope(user)
    return user.organisation_id if sees_person_level(user) else False


def team_scope(user):
    """The ids of the teams whose contacts, referrals and site observations ``user`` sees, or None:
    every team of the organisation (supervisors, admins)."""
    return user.team_ids if user.role in TEAM_NARROWED_ROLES else None


def _in_teams(team, team_ids):
    """Where-clause: the row's team (a column, or a relationship to a Contact) is one of
    ``team_ids``."""
    if isinstance(team.property, RelationshipProperty):
        return team.has(team.property.mapper.class_.team_id.in_(team_ids))
    return team.in_(team_ids)


def _team_id_of(row, team):
    value = getattr(row, team.key)
    return value.team_id if isinstance(team.property, RelationshipProperty) else value


def scoped(query, model, user=None):
    """``query`` (a ``select``) restricted to the ``model`` rows ``user`` (default: the current
    user) may see."""
    user = user or current_user
    allowed = _allowed_organisation(model, user)
    if allowed is None:
        return query
    owner = owners()[model]
    if allowed is False:
        return query.where(false())
    query = query.where(owner.organisation == allowed)
    teams = team_scope(user) if owner.team is not None else None
    return query if teams is None else query.where(_in_teams(owner.team, teams))


def can_log_on(shift, user=None):
    """Whether ``user`` may record rows on ``shift`` (contacts, site observations): a shift they see
    whose team's rows they see too. What is logged on a shift is its team's: a worker logging on
    another team's shift would lose sight of what they just saved, so it is refused as unknown."""
    user = user or current_user
    if shift is None or not can_see(shift, user):
        return False
    teams = team_scope(user)
    return teams is None or shift.team_id in teams


def can_see_organisation(user, organisation_id):
    """Whether ``user`` sees aggregates of ``organisation_id`` (its own, or all when plan-level)."""
    org_id = organisation_scope(user)
    return org_id is None or org_id == organisation_id


def can_see(row, user=None):
    """True when ``user`` (default: the current user) may see ``row``, a row of a scoped model."""
    user = user or current_user
    allowed = _allowed_organisation(type(row), user)
    if allowed is None or allowed is False:
        return allowed is None
    owner = owners()[type(row)]
    if getattr(row, owner.organisation.key) != allowed:
        return False
    teams = team_scope(user) if owner.team is not None else None
    return teams is None or _team_id_of(row, owner.team) in teams


def get_scoped(model, row_id, user=None):
    """The ``model`` row ``row_id`` when ``user`` (default: the current user) may see it, else
    None: a row of another organisation is answered exactly as an unknown id."""
    row = db.session.get(model, row_id) if row_id is not None else None
    return row if row is not None and can_see(row, user) else None


def get_scoped_or_404(model, row_id, user=None):
    """``get_scoped`` or 404 (JSON under /api/): another organisation's row is never revealed."""
    row = get_scoped(model, row_id, user)
    if row is None:
        flask.abort(404)
    return row


def init_app(app):
    app.before_request(check_access)
