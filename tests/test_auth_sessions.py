"""Sessions kept on the server (logout, password change and lifetimes end them, whatever the
cookie says) and API tokens that open /api/ only, expire, are listed and revoked by their owner
and an admin."""

import pytest
from auth_helpers import clock_fixture  # noqa: F401 (the clock fixture)
from conftest import do_login
from test_api_write import _token

from outreach import security
from outreach.extensions import db
from outreach.models import ApiToken, AuditEvent, User
from outreach.seed import DEMO_PASSWORD

WORKER = "worker@aurore.demo"
NEW_PASSWORD = "a long street passphrase"


def _signed_in(client):
    return client.get("/maraude").status_code == 200


def _bearer(token):
    return {"Authorization": "Bearer " + token}


def _actions(app):
    with app.app_context():
        return ([e.action for e in db.session.execute(
            db.select(AuditEvent).order_by(AuditEvent.id)).scalars()])


# --- sessions -------------------------------------------------------------------------------------

def test_a_cookie_copied_before_logout_is_worth_nothing_after_it(client):
    do_login(client, WORKER)
    copied = client.get_cookie("session").value
    client.post("/deconnexion")
    thief = client.application.test_client()
    thief.set_cookie("session", copied)
    assert not _signed_in(thief)


def test_logout_ends_every_session_of_the_user(app, client):
    phone = app.test_client()
    do_login(phone, WORKER)
    do_login(client, WORKER)
    client.post("/deconnexion")
    assert not _signed_in(phone)


def test_a_busy_session_still_ends_after_its_absolute_lifetime(app, client, clock):
    """The idle expiry was pushed back by every request, so a stolen cookie in use never expired."""
    do_login(client, WORKER)
    for _ in range(int(app.config.get("SESSION_MAX_HOURS", 24) // 6) - 1):
        clock(hours=6)
        assert _signed_in(client)
    clock(hours=6)
    assert not _signed_in(client)


def test_an_idle_session_ends_and_a_used_one_lives_on(app, client, clock):
    do_login(client, WORKER)
    clock(hours=app.config["SESSION_HOURS"] - 1)
    assert _signed_in(client)  # used within SESSION_HOURS: the idle expiry starts again
    clock(hours=app.config["SESSION_HOURS"] - 1)
    assert _signed_in(client)
    clock(hours=app.config["SESSION_HOURS"] + 1)
    assert not _signed_in(client)


def test_pages_do_not_rewrite_the_cookie(client):
    """Idle expiry lives on the server: a page answer re-sending an older cookie cannot undo a
    login or a logout (the cookie race of the closing note)."""
    do_login(client, WORKER)
    client.get("/maraude")
    assert [c for c in client.get("/maraude").headers.getlist("Set-Cookie")
            if c.startswith("session=")] == []


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, client):
    phone = app.test_client()
    do_login(phone, WORKER)
    do_login(client, WORKER)
    response = (client.post("/mot-de-passe", data={"current": DEMO_PASSWORD, "new": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD}))
    assert response.status_code == 302
    assert _signed_in(client) and not _signed_in(phone)


# --- tokens ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("email,url", [
    (WORKER, "/orientations/"),
    ("manager@plan.demo", "/export/indicateurs.xlsx"),
    ("admin@aurore.demo", "/admin/journal"),
    ("admin@aurore.demo", "/compte/jetons"),
])
def test_a_token_opens_the_api_and_nothing_else(app, client, email, url):
    headers = _bearer(_token(app, email))
    response = client.get(url, headers=headers)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"], url
    # recognised there (403 to a worker)
    assert client.get("/api/v1/plan", headers=headers).status_code != 401


def test_a_token_stops_working_after_a_password_change(app, client):
    headers = _bearer(_token(app, WORKER))
    do_login(client, WORKER)
    client.post("/mot-de-passe",
                data={"current": DEMO_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.application.test_client().get("/api/v1/reference",
                                                headers=headers).status_code == 401


def test_a_token_stops_working_when_the_account_is_disabled_and_stays_revoked(app, client):
    headers = _bearer(_token(app, WORKER))
    do_login(client, "admin@aurore.demo")
    with app.app_context():
        worker_id = db.session.execute(db.select(User.id).filter_by(email=WORKER)).scalar_one()
    client.post(f"/admin/utilisateurs/{worker_id}/desactiver")
    client.post(f"/admin/utilisateurs/{worker_id}/activer")
    assert app.test_client().get("/api/v1/reference", headers=headers).status_code == 401


def test_a_token_expires(app, client, clock):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one()
        headers = _bearer(security.new_api_token(user, "short", days=2))
        db.session.commit()
    assert client.get("/api/v1/reference", headers=headers).status_code == 200
    clock(hours=49)
    assert client.get("/api/v1/reference", headers=headers).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(app, client, clock):
    headers = _bearer(_token(app, WORKER))

    def last_used():
        with app.app_context():
            return db.session.execute(db.select(ApiToken.last_used_at)).scalar_one()
    assert last_used() is None
    client.get("/api/v1/reference", headers=headers)
    first = last_used()
    assert first is not None
    clock(minutes=0.5)
    client.get("/api/v1/reference", headers=headers)
    assert last_used() == first
    clock(minutes=2)
    client.get("/api/v1/reference", headers=headers)
    assert last_used() > first


def test_the_owner_lists_and_revokes_a_token(app, client):
    headers = _bearer(_token(app, WORKER))
    do_login(client, WORKER)
    assert 'href="/compte/jetons"' in client.get("/mot-de-passe").get_data(as_text=True)
    page = client.get("/compte/jetons").get_data(as_text=True)
    assert "valide" in page and "jamais" in page
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    assert client.post(f"/compte/jetons/{token_id}/revoquer").status_code == 302
    assert app.test_client().get("/api/v1/reference", headers=headers).status_code == 401
    assert "révoqué" in client.get("/compte/jetons").get_data(as_text=True)
    assert "token_revoked" in _actions(app)


def test_nobody_revokes_someone_elses_token_from_their_own_page(app, client):
    headers = _bearer(_token(app, WORKER))
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    do_login(client, "supervisor@aurore.demo")
    assert client.post(f"/compte/jetons/{token_id}/revoquer").status_code == 404
    assert app.test_client().get("/api/v1/reference", headers=headers).status_code == 200


def test_an_admin_lists_and_revokes_a_users_token_in_its_organisation_only(app, client):
    aurore, gaia = _bearer(_token(app, WORKER)), _bearer(_token(app, "worker@gaia.demo"))
    with app.app_context():
        ids = dict(db.session.execute(db.select(User.email, ApiToken.id).join(ApiToken.user)).all())
        users = dict(db.session.execute(db.select(User.email, User.id)).all())
    do_login(client, "admin@aurore.demo")
    assert ("Jetons "
            "d'API" in client.get(f"/admin/utilisateurs/{users[WORKER]}").get_data(as_text=True))
    gaia_url = (f"/admin/utilisateurs/{users['worker@gaia.demo']}"
                f"/jetons/{ids['worker@gaia.demo']}/revoquer")
    assert client.post(gaia_url).status_code == 404
    mixed = f"/admin/utilisateurs/{users[WORKER]}/jetons/{ids['worker@gaia.demo']}/revoquer"
    assert client.post(mixed).status_code == 404
    assert (client.post(
        f"/admin/utilisateurs/{users[WORKER]}/jetons/{ids[WORKER]}/revoquer").status_code == 302)
    fresh = app.test_client()
    assert fresh.get("/api/v1/reference", headers=aurore).status_code == 401
    assert fresh.get("/api/v1/reference", headers=gaia).status_code == 200
