"""Walk every route of app.url_map: anonymous visitors and each role get what the declared rule says."""
import uuid

import pytest

from outreach import create_app
from outreach.access import PUBLIC, needs_plan_level, rule_for
from outreach.models import ROLES

DEMO_BY_ROLE = {
    "worker": "worker@aurore.demo",
    "supervisor": "supervisor@aurore.demo",
    "manager": "manager@plan.demo",
    "admin": "admin@aurore.demo",
}
# Person-level capabilities: a plan manager must never reach them.
PERSON_LEVEL_BLUEPRINTS = {"shifts", "contacts", "referrals", "review", "imports"}
# Routes whose GET changes nothing visible but may legitimately answer 404 for dummy arguments.
SAMPLE_VALUES = {"int": "999999", "integer": "999999", "uuid": str(uuid.uuid4()), "default": str(uuid.uuid4()), "path": "x"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        method = "GET" if "GET" in rule.methods else min(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, method


def _url(rule):
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        values[name] = SAMPLE_VALUES.get(kind, SAMPLE_VALUES["default"])
        if kind == "any":
            values[name] = min(converter.items) if hasattr(converter, "items") else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_route_declares_its_access(app):
    undeclared = [r.endpoint for r, _ in _routes(app) if rule_for(app, r.endpoint) is None]
    assert undeclared == [], f"routes without an access rule: {undeclared}"


def test_anonymous_visitors_are_sent_to_login(app, client):
    for rule, method in _routes(app):
        if rule_for(app, rule.endpoint) == PUBLIC:
            continue
        response = client.open(_url(rule), method=method)
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
            assert response.is_json
        else:
            assert response.status_code == 302, rule.rule
            assert "/connexion" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(app, role):
    client = app.test_client()
    client.post("/connexion", data={"email": DEMO_BY_ROLE[role], "password": "demo-password"})
    for rule, method in _routes(app):
        if rule.endpoint == "auth.logout":
            continue
        declared = rule_for(app, rule.endpoint)
        response = client.open(_url(rule), method=method)
        assert response.status_code < 500, f"{rule.rule} answered {response.status_code} to {role}"
        # the demo admin is one organisation's: shared data (lists, sectors, plan) is not its own
        own = not (needs_plan_level(app, rule.endpoint) and role == "admin")
        if declared == PUBLIC or (role in declared and own):
            assert response.status_code not in (401, 403), f"{role} refused at {rule.rule}"
        else:
            assert response.status_code == 403, f"{role} reached {rule.rule} ({response.status_code})"


def test_plan_managers_never_reach_person_level_pages(app):
    for rule, _ in _routes(app):
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint in PERSON_LEVEL_BLUEPRINTS:
            assert "manager" not in rule_for(app, rule.endpoint), rule.rule


def test_a_route_that_forgets_its_rule_is_caught_and_refused(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                      "SECRET_KEY": "x", "PSEUDONYM_KEY": "y"})
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert rule_for(app, "forgotten") is None
    assert app.test_client().get("/forgotten").status_code in (302, 401, 403)




def test_shared_data_routes_are_plan_level_and_an_instance_admin_reaches_them(app):
    from conftest import do_login

    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import hash_password
    shared = [(r, m) for r, m in _routes(app) if needs_plan_level(app, r.endpoint)]
    assert {r.endpoint for r, _ in shared} >= {"reference.add", "reference.edit", "indicators.catalogue_import"}
    with app.app_context():
        db.session.add(User(email="root@instance.demo", role="admin", organisation_id=None,
                            password_hash=hash_password("demo-password")))
        db.session.commit()
    for email in ("root@instance.demo", "manager@plan.demo"):
        client = app.test_client()
        do_login(client, email)
        for rule, method in shared:
            response = client.open(_url(rule), method=method)
            assert response.status_code not in (401, 403, 500), f"{email} refused at {rule.rule}"
