"""Session cookies: Secure, HttpOnly and SameSite=Lax in production; written only when they must
be, so a slow response carrying an older cookie cannot undo a login or a logout."""
import pytest
from conftest import do_login
from test_api_write import _token

from outreach import create_app
from outreach.extensions import db
from outreach.seed import DEMO_PASSWORD, seed_demo


@pytest.fixture
def production_app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_INSTANCE_PATH", str(tmp_path))
    app = create_app({"ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "s" * 32,
                      "PSEUDONYM_KEY": "p" * 32, "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        seed_demo()
        db.session.commit()
    yield app
    from conftest import empty_tables
    empty_tables(app)
    with app.app_context():
        db.engine.dispose()


def test_session_cookie_flags_in_production(production_app):
    client = production_app.test_client()
    response = client.post("/connexion",
                           data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD},
                           base_url="https://outreach.example")
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    flags = {part.strip().lower() for part in cookies[0].split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


def test_development_cookie_is_still_httponly_and_lax(client):
    response = client.post("/connexion",
                           data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("session=")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def _session_cookies(response):
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


def _login(client):
    assert _session_cookies(do_login(client, "worker@aurore.demo"))


def test_a_request_started_before_login_does_not_undo_it(client):
    """The service worker fetches pages and files while the login form is sent: when one of those
    answers lands after the login, the browser must keep the signed-in cookie."""
    with client.session_transaction() as anonymous:
        anonymous["csrf_token"] = "from-the-login-page"  # what the background requests carry
    before = client.get_cookie("session").value
    _login(client)
    after = client.get_cookie("session").value
    client.set_cookie("session", before)  # a request sent before the login answer arrived
    for url in ("/maraude", "/file-attente", "/static/css/app.css", "/sw.js"):
        assert _session_cookies(client.get(url)) == [], url
    client.set_cookie("session", after)
    assert client.get("/maraude").status_code == 200  # still signed in


def test_signed_in_pages_and_files_do_not_rewrite_the_cookie(client):
    """The idle expiry is kept on the server (tests/test_auth_sessions.py), so nothing re-sends
    the cookie."""
    _login(client)
    client.get("/maraude")  # the first page stores its CSRF token: the session changed
    for url in ("/maraude", "/static/css/app.css", "/sw.js"):
        assert _session_cookies(client.get(url)) == [], url


def test_a_file_fetched_during_logout_does_not_sign_back_in(client):
    _login(client)
    signed_in = client.get_cookie("session").value
    assert client.post("/deconnexion").status_code == 302
    client.set_cookie("session", signed_in)
    assert _session_cookies(client.get("/static/js/queue.js")) == []


def test_a_page_warmed_in_the_background_during_logout_does_not_sign_back_in(client):
    """Right after a logging page opens, the service worker fetches the menu's pages to cache
    them for offline use; a worker who logs out meanwhile gets those answers after the logout's:
    they must not carry the signed-in cookie (on a busy machine the admin browser test found
    itself signed in again)."""
    _login(client)
    signed_in = client.get_cookie("session").value
    assert client.post("/deconnexion").status_code == 302
    client.set_cookie("session", signed_in)  # the warm-up requests were sent before the logout
    for url in ("/maraude", "/api/v1/reference"):
        response = client.get(url, headers={"X-Outreach-Warm": "1"})
        assert _session_cookies(response) == [], url
    # and the old cookie's server-side session is gone
    assert client.get("/maraude").status_code == 302


def test_after_logout_the_anonymous_session_is_not_refreshed(client):
    _login(client)
    client.post("/deconnexion")
    # flash read: written
    assert "Vous êtes déconnecté·e." in client.get("/connexion").get_data(as_text=True)
    assert client.get("/maraude").status_code == 302
    assert _session_cookies(client.get("/connexion")) == []  # nothing changed: no cookie written


def test_bearer_token_requests_get_no_cookie(app, client):
    response = client.get("/api/v1/reference",
                          headers={"Authorization": "Bearer " + _token(app, "worker@aurore.demo")})
    assert response.status_code == 200 and _session_cookies(response) == []
