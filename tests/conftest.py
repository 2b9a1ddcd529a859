"""Shared fixtures.

- ``app``: the app on a migrated database, parametrized over SQLite and, when
  ``TEST_DATABASE_URL`` is set, PostgreSQL (a fresh database per run, dropped at the end).
  Tables are emptied after each test, so tests may commit freely.
- ``client``, ``login(client, email)``, ``demo``: the demo organisations and users.
- Browser tests: ``live_server`` + pytest-playwright on Debian's Chromium, phone viewport.
- ``gunicorn_server``: a real gunicorn (4 workers) on a fresh database of each backend, with a worker's
  API token and an open shift (bench/harness.py).
"""
import os
import shutil
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from outreach import create_app
from outreach.extensions import db
from outreach.seed import DEMO_PASSWORD, seed_demo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _postgres_database():
    """Create a database of our own on the server in TEST_DATABASE_URL; return (url, dropper)."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"outreach_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), drop


def _make_app(url, tmpdir, **extra):
    os.environ["OUTREACH_INSTANCE_PATH"] = tmpdir
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
              "PSEUDONYM_KEY": "test-pseudonym-key", "RATELIMIT_ENABLED": False,
              "WTF_CSRF_ENABLED": False, "FAST_PASSWORD_HASHING": True}  # argon2id at 1 MiB (security.py)
    config.update(extra)
    return create_app(config)


def _upgrade(app):
    from flask_migrate import upgrade
    with app.app_context():
        upgrade()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database per backend for the whole run."""
    tmpdir = str(tmp_path_factory.mktemp(request.param))
    if request.param == "sqlite":
        url, drop = "sqlite:///" + os.path.join(tmpdir, "test.db"), (lambda: None)
    else:
        url, drop = _postgres_database()
    _upgrade(_make_app(url, tmpdir))
    yield url
    drop()


def empty_tables(app):
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def app_config():
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    application = _make_app(database_url, str(tmp_path), **app_config)
    with application.app_context():
        seed_demo()
        db.session.commit()
    yield application
    empty_tables(application)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def backend(app):
    with app.app_context():
        return db.engine.dialect.name


@pytest.fixture
def client(app):
    return app.test_client()


def do_login(client, email, password=DEMO_PASSWORD):
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login(client):
    """``login("worker@aurore.demo")`` logs the test client in."""
    return lambda email, password=DEMO_PASSWORD: do_login(client, email, password)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


# --- browser tests -----------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    if CHROMIUM or os.environ.get("CI") == "true":
        return  # in CI a missing browser must fail the run (see browser_type_launch_args)
    reason = "no Chromium found (apt-get install chromium)"
    for item in items:
        if "page" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not CHROMIUM:
        pytest.fail("CI=true but no Chromium is installed: .ci/run installs it with apt-get")
    return {"executable_path": CHROMIUM, "args": [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]}


@pytest.fixture
def browser_context_args(playwright, base_url):
    return {**playwright.devices["Pixel 5"], "locale": "fr-FR", "base_url": base_url}


@pytest.fixture
def live_app(database_url, tmp_path):
    """A CSRF-enabled app for the browser, sharing the test database."""
    application = _make_app(database_url, str(tmp_path), WTF_CSRF_ENABLED=True)
    with application.app_context():
        seed_demo()
        db.session.commit()
    yield application
    empty_tables(application)
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    server.daemon_threads = False  # tracked, so server_close() waits for requests still running
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()  # a late service-worker fetch must finish before the tables are emptied


@pytest.fixture
def base_url(live_server):
    return live_server


@pytest.fixture(params=BACKENDS)
def gunicorn_server(request, tmp_path):
    """(gunicorn, token, shift_id, database url) on a fresh database of the backend."""
    from bench import harness
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/served.db"
    else:
        url, drop = _postgres_database()
    prep = harness.prepare(str(tmp_path), url)
    gun = harness.Gunicorn(str(tmp_path), url, workers=4)
    yield gun, prep["token"], prep["shift_id"], url
    gun.stop()
    if drop:
        drop()


def browser_login(page, email, password=DEMO_PASSWORD):
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


