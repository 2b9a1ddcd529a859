"""Accounts: invite, temporary password, disable, role and teams, login delay lifted by an admin,
TOTP, scope."""
import re
import time
from types import SimpleNamespace

import pyotp
import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEvent, Team, User

PASSWORD = "correct horse battery staple"


_APP = {}


@pytest.fixture(autouse=True)
def _remember_app(app):
    # each helper opens its own context: a shared one would leak g between clients
    _APP["app"] = app


def _user(email):
    with _APP["app"].app_context():
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one_or_none()
        if user is None:
            return None
        return SimpleNamespace(id=user.id, role=user.role, is_enabled=user.is_enabled,
                               totp_secret=user.totp_secret,
                               must_change_password=user.must_change_password,
                               org=user.organisation.code if user.organisation else None,
                               teams=[t.code for t in user.teams], password_hash=user.password_hash)


def _actions():
    with _APP["app"].app_context():
        return [e.action
                for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def _events(*actions):
    with _APP["app"].app_context():
        return {(e.action, e.before, e.after) for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action.in_(actions))).scalars()}


def _team_id(code):
    with _APP["app"].app_context():
        return db.session.execute(select(Team.id).filter_by(code=code)).scalar_one()


def test_invite_with_a_one_time_link(client, login):
    login("admin@aurore.demo")
    response = client.post("/admin/utilisateurs/inviter", data={
        "email": "New@Aurore.demo", "role": "worker", "teams": [_team_id("aurore_nord")],
        "mode": "link"})
    assert response.status_code == 201
    link = re.search(r"http://localhost(/invitation/[^<\s]+)",
                     response.get_data(as_text=True)).group(1)
    user = _user("new@aurore.demo")
    assert user.org == "aurore" and user.teams == ["aurore_nord"]
    client.post("/deconnexion")
    assert client.post(link, data={"new": "short", "confirm": "short"}).status_code == 422
    assert client.post(link, data={"new": PASSWORD, "confirm": PASSWORD}).status_code == 302
    client.post("/deconnexion")
    assert client.get(link).status_code == 404  # one time only
    login("new@aurore.demo", PASSWORD)
    assert {"user_invited", "invitation_accepted"} <= set(_actions())


def test_temporary_password_must_be_changed(client, login):
    login("admin@aurore.demo")
    response = client.post("/admin/utilisateurs/inviter", data={
        "email": "temp@aurore.demo", "role": "supervisor", "mode": "temporary"})
    assert response.status_code == 201
    password = re.search(r'<code class="secret">([^<]+)</code>',
                         response.get_data(as_text=True)).group(1)
    client.post("/deconnexion")
    response = login("temp@aurore.demo", password)
    assert response.headers["Location"].endswith("/mot-de-passe")
    assert _user("temp@aurore.demo").must_change_password
    assert "temporary_password_set" in _actions()


def test_invite_rejects_duplicates_and_bad_email(client, login):
    login("admin@aurore.demo")
    for email in ("worker@aurore.demo", "not-an-email"):
        response = client.post("/admin/utilisateurs/inviter",
                               data={"email": email, "role": "worker"})
        assert response.status_code == 422
    assert _user("not-an-email") is None


def test_role_and_team_changes_are_audited(client, login):
    login("admin@aurore.demo")
    worker = _user("worker@aurore.demo")
    response = client.post(f"/admin/utilisateurs/{worker.id}", data={
        "role": "supervisor", "teams": [_team_id("aurore_est")]})
    assert response.status_code == 302
    worker = _user("worker@aurore.demo")
    assert worker.role == "supervisor" and worker.teams == ["aurore_est"]
    assert _events("role_changed", "teams_changed") == {
        ("role_changed", "worker", "supervisor"),
        ("teams_changed", "aurore_est,aurore_nord", "aurore_est")}


def test_org_admin_cannot_give_another_organisations_team_or_manager_role(client, login):
    login("admin@aurore.demo")
    worker = _user("worker@aurore.demo")
    response = client.post(f"/admin/utilisateurs/{worker.id}",
                           data={"role": "manager", "teams": []})
    assert response.status_code == 422
    client.post(f"/admin/utilisateurs/{worker.id}",
                data={"role": "worker", "teams": [_team_id("gaia_mobile")]})
    assert "gaia_mobile" not in _user("worker@aurore.demo").teams


def test_disable_ends_sessions(app, client, login):
    other = app.test_client()
    other.post("/connexion", data={"email": "worker@aurore.demo", "password": "demo-password"})
    login("admin@aurore.demo")
    worker = _user("worker@aurore.demo")
    assert client.post(f"/admin/utilisateurs/{worker.id}/desactiver").status_code == 302
    assert other.get("/").status_code == 302 and "/connexion" in other.get("/").headers["Location"]
    assert not _user("worker@aurore.demo").is_enabled and "user_disabled" in _actions()
    admin = _user("admin@aurore.demo")
    client.post(f"/admin/utilisateurs/{admin.id}/desactiver")
    assert _user("admin@aurore.demo").is_enabled


def test_login_delay_then_admin_lifts_it(app, client, login):
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_DELAY_AFTER"] + 1):
        attacker.post("/connexion",
                      data={"email": "worker@aurore.demo", "password": "wrong password!"})
    response = attacker.post("/connexion",
                             data={"email": "worker@aurore.demo", "password": "demo-password"})
    assert response.status_code == 429
    login("admin@aurore.demo")
    worker = _user("worker@aurore.demo")
    assert ("connexion retardée après 6 "
            "échecs" in client.get(f"/admin/utilisateurs/{worker.id}").get_data(as_text=True))
    assert client.post(f"/admin/utilisateurs/{worker.id}/debloquer").status_code == 302
    assert (attacker.post("/connexion", data={"email": "worker@aurore.demo",
                                              "password": "demo-password"}).status_code == 302)
    assert {"login_delayed", "user_unlocked"} <= set(_actions())


@pytest.mark.parametrize(
    "path", ["", "/desactiver", "/debloquer", "/activer", "/double-facteur", "/identifiants"])
def test_org_admin_gets_404_on_another_organisation(client, login, path):
    login("admin@aurore.demo")
    gaia = _user("worker@gaia.demo")
    method = client.get if path == "" else client.post
    assert method(f"/admin/utilisateurs/{gaia.id}{path}").status_code == 404
    assert _user("worker@gaia.demo").is_enabled
    assert "worker@gaia.demo" not in client.get("/admin/utilisateurs").get_data(as_text=True)


def test_instance_admin_manages_every_organisation(app, client, login):
    with app.app_context():
        db.session.add(User(email="root@plan.demo", role="admin", organisation_id=None,
                            password_hash=_user("admin@aurore.demo").password_hash))
        db.session.commit()
    login("root@plan.demo")
    assert "worker@gaia.demo" in client.get("/admin/utilisateurs").get_data(as_text=True)
    gaia = _user("worker@gaia.demo")
    assert client.post(f"/admin/utilisateurs/{gaia.id}/desactiver").status_code == 302
    assert not _user("worker@gaia.demo").is_enabled


def test_non_admins_are_refused(client, login):
    login("supervisor@aurore.demo")
    assert client.get("/admin/utilisateurs").status_code == 403
    assert client.get("/admin/journal").status_code == 403


def test_totp_enrolment_then_login(app, client, login):
    login("manager@plan.demo")
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://totp/" in page
    bad = client.post("/compte/double-facteur",
                      data={"secret": secret, "password": "demo-password", "code": "000000"})
    assert bad.status_code == 422 and _user("manager@plan.demo").totp_secret is None
    response = client.post("/compte/double-facteur",
                           data={"secret": secret, "password": "demo-password",
                                 "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and _user("manager@plan.demo").totp_secret == secret
    fresh = app.test_client()
    form = {"email": "manager@plan.demo", "password": "demo-password"}
    assert fresh.post("/connexion", data=form).status_code == 401
    assert (fresh.post("/connexion", data={
        **form, "totp": pyotp.TOTP(secret).at(time.time() + 30)}).status_code == 302)
    assert "totp_enrolled" in _actions()


def test_workers_cannot_enrol_totp(client, login):
    login("worker@aurore.demo")
    assert client.get("/compte/double-facteur").status_code == 403


@pytest.mark.parametrize(
    "password", ["Motdepasse2024", "chocolat123456", "AZERTYUIOPQSDFGHJKLM", "123456123456"])
def test_common_passwords_are_refused(app, password):
    from outreach.auth.services import common_passwords, password_problem
    assert len(common_passwords()) > 5000
    with app.test_request_context():
        assert password_problem(password) is not None
        assert password_problem(PASSWORD) is None


def _invite_link(client, email):
    response = client.post("/admin/utilisateurs/inviter",
                           data={"email": email, "role": "worker", "mode": "link"})
    return re.search(r"http://localhost(/invitation/[^<\s]+)",
                     response.get_data(as_text=True)).group(1)


def test_new_link_voids_the_old_one_and_links_expire(client, login, monkeypatch):
    login("admin@aurore.demo")
    first = _invite_link(client, "late@aurore.demo")
    user_id = _user("late@aurore.demo").id
    page = client.post(f"/admin/utilisateurs/{user_id}/identifiants",
                       data={"mode": "link"}).get_data(as_text=True)
    second = re.search(r"http://localhost(/invitation/[^<\s]+)", page).group(1)
    client.post("/deconnexion")
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    import time
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 73 * 3600)
    assert client.get(second).status_code == 404
    assert "invitation_sent" in _actions()


def test_admin_removes_a_lost_second_factor(app, client, login):
    with app.app_context():
        manager = db.session.execute(select(User).filter_by(email="manager@plan.demo")).scalar_one()
        manager.totp_secret = pyotp.random_base32()
        manager.organisation_id = db.session.execute(select(User.organisation_id).filter_by(
            email="admin@aurore.demo")).scalar_one()
        db.session.commit()
    login("admin@aurore.demo")
    manager = _user("manager@plan.demo")
    assert client.post(f"/admin/utilisateurs/{manager.id}/double-facteur").status_code == 302
    assert _user("manager@plan.demo").totp_secret is None and "totp_reset" in _actions()


def test_managers_find_the_second_factor_page(client, login):
    login("manager@plan.demo")
    assert 'href="/compte/double-facteur"' in client.get("/confidentialite").get_data(as_text=True)
