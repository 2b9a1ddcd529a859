"""Production session cookies are Secure, HttpOnly and SameSite=Lax."""
import pytest

from outreach import create_app
from outreach.extensions import db
from outreach.seed import DEMO_PASSWORD, seed_demo


@pytest.fixture
def production_app(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_INSTANCE_PATH", str(tmp_path))
    app = create_app({"ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "s" * 32,
                      "PSEUDONYM_KEY": "p" * 32, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
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
    response = client.post("/connexion", data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD},
                           base_url="https://outreach.example")
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    flags = {part.strip().lower() for part in cookies[0].split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags


def test_development_cookie_is_still_httponly_and_lax(client):
    response = client.post("/connexion", data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
