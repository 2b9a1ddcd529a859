"""Foundation: configuration, databases, migrations, security headers, login answers, CLI."""
import os
import re
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import PATIENCE
from flask_migrate import Migrate

from outreach import ROOT, create_app
from outreach.config import ConfigError, load
from outreach.extensions import db
from outreach.models import User
from outreach.seed import DEMO_USERS

# --- configuration --------------------------------------------------------------

def test_production_refuses_to_start_without_secrets(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "PSEUDONYM_KEY"):
        monkeypatch.delenv("OUTREACH_" + name, raising=False)
    monkeypatch.setenv("OUTREACH_ENV", "production")
    with pytest.raises(ConfigError, match="OUTREACH_SECRET_KEY, OUTREACH_PSEUDONYM_KEY"):
        load(str(tmp_path))


def test_development_secrets_are_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("OUTREACH_SECRET_KEY", raising=False)
    first = load(str(tmp_path))["SECRET_KEY"]
    assert len(first) == 64 and load(str(tmp_path))["SECRET_KEY"] == first
    assert oct(os.stat(tmp_path / "secrets.json").st_mode)[-3:] == "600"


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_SUPPRESSION_THRESHOLD", "11")
    monkeypatch.setenv("OUTREACH_SESSION_HOURS", "8")
    config = load(str(tmp_path))
    assert config["SUPPRESSION_THRESHOLD"] == 11
    assert config["SESSION_HOURS"] == 8


def test_a_bad_setting_gets_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_SUPPRESSION_THRESHOLD", "five")
    with pytest.raises(ConfigError, match="OUTREACH_SUPPRESSION_THRESHOLD"):
        load(str(tmp_path))


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTREACH_ENV", "production")
    monkeypatch.setenv("OUTREACH_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("OUTREACH_PSEUDONYM_KEY", "p" * 40)
    config = load(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- databases and migrations -----------------------------------------------------

def test_sqlite_connections_use_wal_and_foreign_keys(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    with app.app_context():
        pragma = lambda name: db.session.execute(db.text("PRAGMA " + name)).scalar()
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000
        assert pragma("synchronous") == 1  # NORMAL


def test_migrations_have_a_single_head():
    script = ScriptDirectory(os.path.join(ROOT, "migrations"))
    assert len(script.get_heads()) == 1


def test_models_and_migrations_do_not_differ(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrate_is_configured_for_sqlite_batch_mode(app):
    migrate = app.extensions["migrate"]
    assert isinstance(migrate.migrate, Migrate) if hasattr(migrate, "migrate") else True
    assert migrate.configure_args.get("render_as_batch") is True


# --- web answers --------------------------------------------------------------------

def test_health_check_tells_the_running_version(client):
    import importlib.metadata

    import outreach
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok",
                                                             "version": outreach.__version__}
    # the package metadata (pip show, setup.cfg's attr:) reads the same single number
    assert (importlib.metadata.version("outreach")
            == outreach.__version__), "stale install: run make install"
    with open(os.path.join(ROOT, "CHANGELOG.md"), encoding="utf-8") as changelog:
        headings = re.findall(r"^## \[([^\]]+)\]", changelog.read(), re.MULTILINE)
    # a development version comes after the last release and before its own: its changes are
    # "Unreleased"
    expected = "Unreleased" if ".dev" in outreach.__version__ else outreach.__version__
    assert headings and headings[0] == expected, headings


def test_security_headers(client):
    response = client.get("/connexion")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_interface_is_french_by_default_and_english_on_request(client):
    assert "Se connecter" in client.get("/connexion").get_data(as_text=True)
    client.get("/langue/en")
    assert 'lang="en"' in client.get("/connexion").get_data(as_text=True)


@pytest.mark.parametrize("email,password", [
    ("worker@aurore.demo", "wrong-password"),
    ("nobody@nowhere.demo", "demo-password"),
])
def test_wrong_credentials_get_one_clear_french_message(client, email, password):
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_a_too_long_field_is_refused_with_a_message(client):
    response = client.post("/connexion", data={"email": "a" * 5000 + "@x.fr", "password": "x"})
    assert response.status_code == 400
    assert "254" in response.get_data(as_text=True)


def test_a_missing_csrf_token_gets_a_clear_answer(tmp_path, database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PSEUDONYM_KEY": "y", "RATELIMIT_ENABLED": False})
    response = app.test_client().post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 400
    assert "jeton CSRF" in response.get_data(as_text=True)


def test_login_is_throttled_with_a_french_message(tmp_path, database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                      "PSEUDONYM_KEY": "y", "WTF_CSRF_ENABLED": False,
                      "LOGIN_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [client.post("/connexion", data={"email": "x@y.fr", "password": "bad"}).status_code
             for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    assert ("Trop de tentatives" in client.post(
        "/connexion", data={"email": "x@y.fr", "password": "b"}).get_data(as_text=True))


@pytest.mark.parametrize("email",
                         ["worker@aurore.demo", "supervisor@aurore.demo", "admin@aurore.demo",
                          "worker@gaia.demo", "manager@plan.demo"])
def test_each_demo_role_lands_on_its_own_home_page(app, client, login, email):
    from outreach.access import HOME_ENDPOINTS
    login(email)
    with app.app_context():
        role = db.session.execute(db.select(User.role).filter_by(email=email)).scalar_one()
    landing = client.get("/")
    assert landing.status_code == 302
    page = client.get(landing.headers["Location"])
    assert page.status_code == 200
    assert HOME_ENDPOINTS[role] in app.view_functions, f"home page of {role} is missing"


def test_session_ends_after_logout(client, login):
    login("worker@aurore.demo")
    client.post("/deconnexion")
    assert client.get("/").status_code == 302
    assert "/connexion" in client.get("/").headers["Location"]


def test_nothing_is_loaded_from_outside_the_app():
    pattern = re.compile(r"""(src|href|url)\s*[=(]\s*["']?(https?:)?//""", re.IGNORECASE)
    offenders = []
    for folder in ("templates", "static"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if name.endswith((".html", ".css", ".js")) and "vendor" not in dirpath:
                    with open(os.path.join(dirpath, name), encoding="utf-8") as handle:
                        text = handle.read()
                    offenders += [f"{name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []


# --- command line -------------------------------------------------------------------

def _flask(args, database_url, tmp_path, stdin=""):
    env = {**os.environ, "OUTREACH_DATABASE_URL": database_url,
           "OUTREACH_INSTANCE_PATH": str(tmp_path),
           "OUTREACH_SECRET_KEY": "x", "OUTREACH_PSEUDONYM_KEY": "test-pseudonym-key"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=PATIENCE,
                          check=False)


def test_create_user_reads_the_password_from_stdin_and_enforces_the_policy(
        app, database_url, tmp_path):
    weak = _flask(["create-user", "new@aurore.demo", "--role", "worker", "--organisation", "aurore",
                   "--team", "aurore_nord"], database_url, tmp_path, stdin="short\n")
    assert weak.returncode != 0 and "12" in weak.stderr
    good = _flask(["create-user", "new@aurore.demo", "--role", "worker", "--organisation", "aurore",
                   "--team", "aurore_nord"], database_url, tmp_path,
                  stdin="a long street passphrase\n")
    assert good.returncode == 0, good.stderr
    client = app.test_client()
    ok = client.post("/connexion",
                     data={"email": "new@aurore.demo", "password": "a long street passphrase"})
    assert ok.status_code == 302
    with app.app_context():  # a real (non-test) app stores argon2id with the standard 64 MiB cost
        stored = db.session.execute(
            db.select(User.password_hash).filter_by(email="new@aurore.demo")).scalar()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_cheap_password_hashing_is_only_for_test_apps(tmp_path):
    from outreach.security import hash_password
    for testing, expected in ((True, "$argon2id$v=19$m=1024,t=1,p=1$"),
                              (False, "$argon2id$v=19$m=65536,t=3,p=4$")):
        app = create_app({"TESTING": testing, "FAST_PASSWORD_HASHING": True, "SECRET_KEY": "x",
                          "PSEUDONYM_KEY": "y", "DATABASE_URL": f"sqlite:///{tmp_path}/h.db"})
        with app.app_context():
            assert hash_password("a long street passphrase").startswith(expected)


def test_create_token_prints_a_working_bearer_token(app, database_url, tmp_path):
    result = _flask(["create-token", "worker@aurore.demo"], database_url, tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    with app.test_request_context("/api/v1/reference",
                                  headers={"Authorization": f"Bearer {token}"}):
        from flask_login import current_user
        assert current_user.email == "worker@aurore.demo"


def test_seed_demo_is_idempotent(app, database_url, tmp_path):
    first = _flask(["seed-demo"], database_url, tmp_path)
    second = _flask(["seed-demo"], database_url, tmp_path)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert "worker@aurore.demo" in second.stdout
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == len(DEMO_USERS)


@pytest.mark.parametrize("app_config", [{"PROXY_HOPS": 1}])
def test_behind_one_proxy_the_audit_log_records_the_client_address_not_nginx(app, client):
    from outreach.models import AuditEvent
    client.post("/connexion", data={"email": "worker@aurore.demo", "password": "wrong-password"},
                headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"})
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="login_failed")).scalar_one()
        assert event.details["ip"] == "203.0.113.7"
