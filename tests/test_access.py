"""Walk every route of app.url_map: anonymous visitors and each role get what the declared rule
says."""
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
SAMPLE_VALUES = {"int": "999999", "integer": "999999", "uuid": str(uuid.uuid4()),
                 "default": str(uuid.uuid4()), "path": "x"}


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
            assert response.status_code == 403, \
                f"{role} reached {rule.rule} ({response.status_code})"


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
    assert {r.endpoint for r, _ in shared} >= {"reference.add", "reference.edit",
                                                "indicators.catalogue_import"}
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


# --- a second organisation's ids -------------------------------------------------------------
# Every route argument is either the id of a row that belongs to an organisation (answered 404 to
# anyone outside it, as an unknown id) or a value every organisation shares. A route with an
# argument in neither map fails test_every_route_argument_is_classified: add it here, with a row of
# organisation B to ask for.
OWNED_IDS = {"shift_id", "contact_id", "referral_id", "observation_id", "team_id", "user_id",
             "token_id", "handover_id"}
SHARED_ARGUMENTS = {
    "kind", "item_id",  # reference lists
    "site_id", "meeting_id", "decision_id",  # sites and coordination, shared by the plan's actors
    "action_id", "milestone_id",  # the plan and its execution
    "code", "fmt",  # indicator codes, export formats, languages
    "token",  # an invitation: the signed token is the access
    "filename",  # static files
    # A month's sign-off names the organisation: its admin signs its own, a plan manager accepts or
    # returns any; another organisation's admin gets 404 (tests/test_signoff.py, sign_off tests).
    "organisation_id", "month_text",
}
ROLES_OF_A = DEMO_BY_ROLE  # Aurore's worker, supervisor and admin, and the plan manager
MARKERS_OF_B = ("Équipe mobile Gaïa", "worker@gaia.demo", "gaia_mobile")


def _id_routes(app):
    for rule, method in _routes(app):
        if set(rule.arguments) & OWNED_IDS:
            for each in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, each


@pytest.fixture
def org_b(app):
    """Organisation B (Gaïa): an open shift with a contact, a referral and a site observation,
    its team, its worker and an API token of that worker. Returns {argument name: id}."""
    from datetime import timedelta

    from outreach.extensions import db
    from outreach.models import (
        ApiToken,
        Contact,
        Referral,
        ReferralEvent,
        RefItem,
        Shift,
        Team,
        User,
        utcnow,
    )
    from outreach.security import new_api_token
    from outreach.shifts.services import local_date
    from outreach.site_models import Site, SiteObservation
    with app.app_context():
        team = db.session.execute(db.select(Team).filter_by(code="gaia_mobile")).scalar_one()
        worker = db.session.execute(
            db.select(User).filter_by(email="worker@gaia.demo")).scalar_one()
        started = utcnow() - timedelta(hours=1)
        day = local_date(started)
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                      started_at=started, shift_on=day, status="open")
        contact = Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                          occurred_at=started, occurred_on=day, kind="anonymous", people_count=2,
                          created_by_id=worker.id)
        programme = db.session.execute(
            db.select(RefItem).filter_by(kind="programme", code="assore")).scalar_one()
        referral = Referral(organisation_id=team.organisation_id, programme=programme,
                            status="proposed",
                            proposed_on=day)
        referral.events.append(ReferralEvent(status="proposed", occurred_on=day,
                                             recorded_by_id=worker.id))
        contact.referrals.append(referral)
        site = db.session.execute(db.select(Site).order_by(Site.id)).scalars().first()
        observation = SiteObservation(shift=shift, organisation_id=team.organisation_id,
                                      team_id=team.id, site=site, observed_at=started,
                                      observed_on=day, people_seen=3, created_by_id=worker.id)
        db.session.add_all([contact, observation])
        handover = _handover_to(team.organisation_id, programme, day)
        new_api_token(worker, label="gaia")
        db.session.commit()
        token = db.session.execute(db.select(ApiToken.id).filter_by(user_id=worker.id)).scalar_one()
        return {"shift_id": shift.id, "contact_id": contact.id, "referral_id": referral.id,
                "observation_id": observation.id, "team_id": team.id, "user_id": worker.id,
                "token_id": token, "handover_id": handover.id,
                "organisation_id": team.organisation_id}


def _handover_to(organisation_id, programme, day):
    """A referral of Aurore handed over to ``organisation_id``: B reads it, Aurore's roles do not
    receive it (its received page is B's)."""
    from outreach.extensions import db
    from outreach.models import Contact, Referral, Shift, Team, User, utcnow
    from outreach.site_models import ReferralHandover
    team = db.session.execute(db.select(Team).filter_by(code="aurore_nord")).scalar_one()
    worker = db.session.execute(db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
    shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                  started_at=utcnow(), shift_on=day, status="open")
    contact = Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                      occurred_at=utcnow(), occurred_on=day, kind="anonymous", people_count=1,
                      created_by_id=worker.id)
    referral = Referral(organisation_id=team.organisation_id, programme=programme,
                        status="proposed", proposed_on=day)
    contact.referrals.append(referral)
    handover = ReferralHandover(referral=referral, from_organisation_id=team.organisation_id,
                                to_organisation_id=organisation_id, handed_over_on=day,
                                handed_over_by_id=worker.id)
    db.session.add_all([contact, handover])
    db.session.flush()
    return handover


def _url_with(rule, ids):
    values = {name: ids.get(name) for name in rule.arguments}
    for name, converter in rule._converters.items():
        if values[name] is None:
            kind = type(converter).__name__.replace("Converter", "").lower()
            values[name] = SAMPLE_VALUES.get(kind, SAMPLE_VALUES["default"])
    return rule.build(values, append_unknown=False)[1]


def _rows_of(app, organisation_id):
    """Every stored row of organisation B (and of its users, shifts, contacts, referrals), as
    comparable text."""
    from sqlalchemy import select

    from outreach.extensions import db
    with app.app_context(), db.engine.connect() as conn:
        tables = db.metadata.tables
        users = [r[0] for r in conn.execute(select(tables["users"].c.id).where(
            tables["users"].c.organisation_id == organisation_id))]
        found = {}
        for table in db.metadata.sorted_tables:
            columns = table.c
            if "organisation_id" in columns:
                where = columns.organisation_id == organisation_id
            elif "user_id" in columns:
                where = columns.user_id.in_(users)
            else:
                continue
            rows = conn.execute(select(table).where(where))
            found[table.name] = sorted(repr(tuple(r)) for r in rows)
        for child, parent, key in (("referral_events", "referrals", "referral_id"),
                                   ("shift_partners", "shifts", "shift_id"),
                                   ("contact_materials", "contacts", "contact_id")):
            parents = tables[parent]
            owners = select(parents.c.id).where(parents.c.organisation_id == organisation_id)
            table = tables[child]
            found[child] = sorted(repr(tuple(r)) for r in conn.execute(select(table).where(
                table.c[key].in_(owners))))
        return found


def test_every_route_argument_is_classified(app):
    """A new route whose argument is neither a scoped id nor a shared value fails here until it
    has a case."""
    unknown = sorted({f"{rule.rule}: {name}" for rule, _ in _routes(app) for name in rule.arguments
                      if name not in OWNED_IDS | SHARED_ARGUMENTS})
    assert unknown == [], \
        f"route arguments with no cross-organisation case in OWNED_IDS/SHARED_ARGUMENTS: {unknown}"
    assert {name for rule, _ in _id_routes(app) for name in rule.arguments} == OWNED_IDS


@pytest.mark.parametrize("role", ROLES)
def test_no_role_of_organisation_a_reaches_an_id_of_organisation_b(app, org_b, role):
    """Each role of Aurore asks every route that takes an id for Gaïa's row: 404 as an unknown id
    where its role is admitted (403 where it is not), never B's data, and nothing of B changes."""
    before = _rows_of(app, org_b["organisation_id"])
    client = app.test_client()
    do_login_as(client, ROLES_OF_A[role])
    api_client = app.test_client()  # the API as an integrator calls it: a bearer token, no session
    bearer = {"Authorization": "Bearer " + _token(app, ROLES_OF_A[role])}
    asked = 0
    for rule, method in _id_routes(app):
        url = _url_with(rule, org_b)
        api = rule.rule.startswith("/api/")
        response = (api_client.open(url, method=method, json={}, headers=bearer) if api
                    else client.open(url, method=method))
        admitted = role in rule_for(app, rule.endpoint)
        expected = 404 if admitted else 403
        assert response.status_code == expected, \
            f"{role} {method} {url}: {response.status_code}, not {expected}"
        body = response.get_data(as_text=True)
        ids = tuple(str(org_b[name]) for name in ("shift_id", "contact_id", "referral_id"))
        for secret in MARKERS_OF_B + ids:
            assert secret not in body.replace(url, ""), f"{role} {method} {url} shows {secret!r}"
        asked += 1
    assert asked >= 20
    assert _rows_of(app, org_b["organisation_id"]) == before, \
        f"{role} changed organisation B's rows"


def test_organisation_b_reaches_its_own_ids(app, org_b):
    """The control: B's own users reach the same ids (so a 404 above is the scope, not a wrong
    id)."""
    gets = [rule for rule, method in _id_routes(app) if method == "GET"]
    assert {name for rule in gets for name in rule.arguments} >= OWNED_IDS - {"token_id"}
    for rule in gets:
        roles = rule_for(app, rule.endpoint)
        email = next(f"{r}@gaia.demo" for r in ("worker", "supervisor", "admin") if r in roles)
        client = app.test_client()
        if rule.rule.startswith("/api/"):
            bearer = {"Authorization": "Bearer " + _token(app, email)}
            response = client.get(_url_with(rule, org_b), headers=bearer)
        else:
            do_login_as(client, email)
            response = client.get(_url_with(rule, org_b))
        assert response.status_code == 200, f"{email} GET {rule.rule}: {response.status_code}"
    client = app.test_client()
    do_login_as(client, "worker@gaia.demo")
    assert client.post(f"/compte/jetons/{org_b['token_id']}/revoquer").status_code in (302, 303)
    from outreach.extensions import db
    from outreach.models import ApiToken
    with app.app_context():
        assert db.session.get(ApiToken, org_b["token_id"]).revoked_at is not None


def _token(app, email):
    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import new_api_token
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        token = new_api_token(user)
        db.session.commit()
        return token


def do_login_as(client, email):
    from conftest import do_login
    do_login(client, email)


def test_an_instance_admin_manages_every_user_but_sees_no_person_level_row(app, org_b):
    """An admin with no organisation manages every organisation's accounts, but shifts, contacts
    and referrals never leave their organisation: the review board is empty and B's shift is a 404
    (before, the review pages showed it every organisation's shifts)."""
    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import hash_password
    with app.app_context():
        db.session.add(User(email="root@instance.demo", role="admin", organisation_id=None,
                            password_hash=hash_password("demo-password")))
        db.session.commit()
    client = app.test_client()
    do_login_as(client, "root@instance.demo")
    assert client.get(f"/admin/utilisateurs/{org_b['user_id']}").status_code == 200
    board = client.get("/revue/")
    assert board.status_code == 200 and org_b["shift_id"] not in board.get_data(as_text=True)
    assert client.get(f"/revue/maraude/{org_b['shift_id']}").status_code == 404
    assert client.post(f"/revue/contact/{org_b['contact_id']}/corriger").status_code == 404
    assert client.get(f"/orientations/{org_b['referral_id']}").status_code == 403
    supervisor = app.test_client()
    do_login_as(supervisor, "supervisor@gaia.demo")
    assert org_b["shift_id"] in supervisor.get("/revue/").get_data(as_text=True)


# --- a second team of organisation B ---------------------------------------------------------
# A worker sees their own teams' contacts and referrals only (DOMAIN.md), on every path: the list
# endpoints, one encounter of the API, the pages. One rule, ``access.owners()``/``scoped()``.
TEAM_IDS = {"contact_id", "referral_id", "observation_id"}


@pytest.fixture
def other_team_worker(app, org_b):
    """A worker of organisation B on another team than the one of B's contact and referral."""
    from outreach.extensions import db
    from outreach.models import Team, User
    from outreach.security import hash_password
    with app.app_context():
        team = Team(organisation_id=org_b["organisation_id"], code="gaia_nuit", name="Nuit Gaïa")
        db.session.add(User(email="nuit@gaia.demo", role="worker", teams=[team],
                            organisation_id=org_b["organisation_id"],
                            password_hash=hash_password("demo-password")))
        db.session.commit()
    return "nuit@gaia.demo"


def test_a_worker_of_another_team_reaches_no_contact_or_referral_of_the_team(
        app, org_b, other_team_worker):
    """Every route taking B's contact or referral id answers B's worker of another team as an
    unknown id (404 where a worker is admitted, else 403), shows nothing of it, changes nothing."""
    client, api_client = app.test_client(), app.test_client()
    do_login_as(client, other_team_worker)
    bearer = {"Authorization": "Bearer " + _token(app, other_team_worker)}
    before = _data_of(app, org_b["organisation_id"])
    asked = 0
    for rule, method in _id_routes(app):
        if not set(rule.arguments) & TEAM_IDS:
            continue
        url = _url_with(rule, org_b)
        response = (api_client.open(url, method=method, json={}, headers=bearer)
                    if rule.rule.startswith("/api/") else client.open(url, method=method))
        expected = 404 if "worker" in rule_for(app, rule.endpoint) else 403
        assert response.status_code == expected, \
            f"{method} {url}: {response.status_code}, not {expected}"
        body = response.get_data(as_text=True).replace(url, "")
        assert org_b["contact_id"] not in body and org_b["referral_id"] not in body, url
        asked += 1
    assert asked >= 8
    assert _data_of(app, org_b["organisation_id"]) == before


def test_a_worker_of_another_team_sees_and_adds_no_site_observation_of_the_team(
        app, org_b, other_team_worker):
    """B's shift is the organisation's, but its site observations are its team's, as its contacts
    are: B's worker of another team is shown none of them on the observation page, and adding one
    to that shift is refused as for an unknown shift (form and API), nothing written. B's worker
    of the team is the control."""
    import uuid

    from outreach.extensions import db
    from outreach.site_models import SiteObservation
    with app.app_context():
        site = db.session.get(SiteObservation, org_b["observation_id"]).site
        site_id, site_code = site.id, site.code
    shown = f'id="site-observation-{org_b["observation_id"]}"'
    before = _rows_of(app, org_b["organisation_id"])["site_observations"]
    url = f"/maraude/{org_b['shift_id']}/sites"
    for email, sees in ((other_team_worker, False), ("worker@gaia.demo", True)):
        client = app.test_client()
        do_login_as(client, email)
        refused = client.post(url, data={"site_id": "x"})  # not saved: the page again, listing
        assert refused.status_code == 422 and (shown in refused.get_data(as_text=True)) is sees
    client = app.test_client()
    do_login_as(client, other_team_worker)
    form = client.post(url, data={"site_id": site_id, **{name: 0 for name in (
        "people_seen", "unapproached_women", "unapproached_men", "unapproached_other",
        "syringes_collected", "pipes_collected", "mediations_residents",
        "mediations_shopkeepers")}})
    assert form.status_code == 422 and "Maraude inconnue." in form.get_data(as_text=True)
    bearer = {"Authorization": "Bearer " + _token(app, other_team_worker)}
    api = app.test_client().post("/api/v1/site-observations", headers=bearer, json={
        "id": str(uuid.uuid4()), "shift_id": org_b["shift_id"], "site": site_code})
    assert api.status_code == 422 and set(api.json["errors"]) == {"shift_id"}, api.json
    assert _rows_of(app, org_b["organisation_id"])["site_observations"] == before


def test_a_worker_of_another_team_cannot_log_a_contact_they_would_not_see(
        app, org_b, other_team_worker):
    """A contact is its shift's team's: logged by B's worker of another team on that team's open
    shift, it would vanish from its author's screens once saved. Refused as an unknown shift
    (API, the phone's queue path), nothing written; B's worker of the team is the control."""
    import uuid
    before = _rows_of(app, org_b["organisation_id"])["contacts"]
    for email, status in ((other_team_worker, 422), ("worker@gaia.demo", 201)):
        bearer = {"Authorization": "Bearer " + _token(app, email)}
        response = app.test_client().post("/api/v1/encounters", headers=bearer, json={
            "id": str(uuid.uuid4()), "shift_id": org_b["shift_id"], "kind": "anonymous",
            "people_count": 1})
        assert response.status_code == status, response.json
        if status == 422:
            assert set(response.json["errors"]) == {"shift_id"}, response.json
            assert _rows_of(app, org_b["organisation_id"])["contacts"] == before
    assert len(_rows_of(app, org_b["organisation_id"])["contacts"]) == len(before) + 1


def _data_of(app, organisation_id):
    """B's rows but its users' accounts (B's worker logs in and uses a token)."""
    return {table: rows for table, rows in _rows_of(app, organisation_id).items()
            if table not in ("users", "user_sessions", "api_tokens")}


@pytest.mark.parametrize("email, sees", [("worker@gaia.demo", True), ("nuit@gaia.demo", False),
                                         ("supervisor@gaia.demo", True)])
def test_one_encounter_and_the_lists_follow_one_rule(app, org_b, other_team_worker, email, sees):
    """The API's single encounter answers whoever finds it in the lists, and only them."""
    headers = {"Authorization": "Bearer " + _token(app, email)}
    client = app.test_client()
    one = client.get(f"/api/v1/encounters/{org_b['contact_id']}", headers=headers)
    assert one.status_code == (200 if sees else 404)
    listed = {e["id"] for e in client.get("/api/v1/encounters", headers=headers).json["items"]}
    assert (org_b["contact_id"] in listed) is sees
    referrals = client.get("/api/v1/referrals", headers=headers).json["items"]
    assert (org_b["referral_id"] in {r["id"] for r in referrals}) is sees
