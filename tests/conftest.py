"""Shared fixtures.

- ``app``: the app on a migrated database, parametrized over SQLite and, when
  ``TEST_DATABASE_URL`` is set, PostgreSQL (a fresh database per run, dropped at the end).
  The demo seed is run once per run and its rows copied in before each test; tables are emptied
  after each test, so tests may commit freely (a rollback-per-test fixture would not hold for the
  tests that go through a second connection: a live server's threads, a gunicorn, a subprocess).
- ``make test`` runs pytest-xdist (one worker per core): every database above is per worker (a
  SQLite file in the worker's temporary directory, a PostgreSQL database named after the worker's
  pid), and a module with a module-scoped fixture stays on one worker (``xdist_group``, set in
  pytest_collection_modifyitems).
- Browser tests (those on ``live_app``: a real Chromium against a live server) run on ONE backend,
  PostgreSQL when TEST_DATABASE_URL is set (production), else SQLite: what they check is what a
  person sees and does on the page; the server code behind each page is tested on both backends
  through the test client. The SQLite copies are deselected, and counted as such in pytest's
  summary.
- Gunicorn tests (``gunicorn_server``, or ``shared_gunicorn_server`` for a module's tests that do
  not interfere) stay on both backends: concurrent writers are where the two
  differ.
- Markers: ``slow`` for gunicorn, browser and property tests, ``browser`` for browser tests (set
  here); ``make test`` runs them all, ``-m "not slow"`` leaves them out for a quick loop.
- Waits: for events, never for a fixed time; PATIENCE (bench/harness.py) is only a hang guard.
- ``client``, ``login(client, email)``, ``demo``: the demo organisations and users.
- Browser tests: ``live_server`` + pytest-playwright on Debian's Chromium (one browser per worker, a
  new context per test), phone viewport.
- ``gunicorn_server``: a real gunicorn (4 workers) on a fresh database of each backend, with a
  worker's API token and an open shift (bench/harness.py).
"""
import os
import shutil
import threading
import time
import uuid

import pytest
from hypothesis import settings
from jinja2 import BytecodeCache
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import PATIENCE
from outreach import create_app
from outreach.extensions import db
from outreach.seed import DEMO_PASSWORD, seed_demo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])

# Tests wait for events (a text shown, an element enabled, a queue emptied), never for a fixed time.
# PATIENCE (seconds, TEST_PATIENCE) only turns a wait that never ends into a failure: it is far
# above what a 2-core machine at load 20 needs, and no test asserts how long something took.
expect.set_options(timeout=PATIENCE * 1000)

# Property and schemathesis tests take their example counts from a Hypothesis profile (no test sets
# its own): "quick" (the default, and CI) runs a fixed, derandomized set of examples per test, so a
# run is repeatable and a failure reproduces; HYPOTHESIS_PROFILE=thorough explores 20 times more, at
# random.
settings.register_profile("quick", max_examples=10, derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("thorough", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def _share_url_builders():
    """Each test builds its own app, and werkzeug compiles two URL-builder functions per route with
    ``ast`` + ``compile`` (~200 per app): most of a test's set-up time. The generated code depends
    only on the rule's text, its parsed parts and defaults (the rule itself is passed in at call
    time), so the functions are compiled once per process and bound to each new Rule. Same code,
    same URLs: test speed only."""
    from werkzeug.routing.rules import Rule
    compiled, original = {}, Rule._compile_builder

    def _compile_builder(self, append_unknown=True):
        key = (self.rule, self.host, self.subdomain, self.map.host_matching, tuple(self._trace),
               repr(sorted((self.defaults or {}).items())), append_unknown)
        if key not in compiled:
            compiled[key] = original(self, append_unknown)
        return compiled[key]
    Rule._compile_builder = _compile_builder


_share_url_builders()


class _SharedTemplateCode(BytecodeCache):
    """Each test builds its own app, hence its own Jinja environment with an empty template cache:
    every page a test renders was parsed and compiled again (tens of milliseconds for a page and
    its includes). The compiled code is kept once per process, keyed by the template's name and
    checked against its source's hash by Jinja itself; every test app has the same Jinja settings
    (create_app), so the code is the code the test's own environment would compile. Test speed
    only."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


def _postgres_database(url=None, template=None):
    """Create a database of our own on the server of ``url`` (TEST_DATABASE_URL), empty or a copy
    of the ``template`` database; return (url, dropper). The administrative connection goes to
    the "postgres" database: a template must have no other connection while it is copied."""
    base = make_url(url or os.environ["TEST_DATABASE_URL"])
    name = f"outreach_{'served' if template else 'test'}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), drop


def _make_app(url, tmpdir, **extra):
    os.environ["OUTREACH_INSTANCE_PATH"] = tmpdir
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
              "PSEUDONYM_KEY": "test-pseudonym-key", "RATELIMIT_ENABLED": False,
              # argon2id at 1 MiB (security.py)
              "WTF_CSRF_ENABLED": False, "FAST_PASSWORD_HASHING": True}
    config.update(extra)
    application = create_app(config)
    application.jinja_env.bytecode_cache = _TEMPLATE_CODE
    return application


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
    if url in _ENGINES:
        _ENGINES.pop(url).dispose()
    drop()


_ENGINES = {}


def _engine(app):
    """One engine per database and process for the per-test reset: its compiled statements and its
    pooled connection are reused from test to test (each test's app builds its own engine, compiling
    the ~40 DELETEs and INSERTs again and opening a new connection, which cost more than the reset
    itself)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url, pool_size=1)
    return _ENGINES[url]


def empty_tables(app):
    """Delete every row and restart the id sequences: the next test starts from an empty database.

    DELETE rather than TRUNCATE on PostgreSQL: truncating ~30 tables costs ~0.6 s per test (a new
    file per table), deleting the few rows a test leaves costs milliseconds."""
    with app.app_context():
        db.session.remove()
    engine = _engine(app)
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{t}"' for t in tables))
            _set_sequences(conn)
        else:
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')


def _set_sequences(conn):
    """PostgreSQL: each serial sequence restarts after the highest id its table holds (1 when
    empty)."""
    calls = [
        f"""setval('{sequence}', COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)"""
        for table, column, sequence in _sequences(conn)]
    if calls:
        conn.exec_driver_sql("SELECT " + ", ".join(calls))


_SEQUENCES = {}


def _sequences(conn):
    """(table, id column, sequence) of every serial primary key, looked up once per database."""
    key = conn.engine.url.render_as_string(hide_password=False)
    if key not in _SEQUENCES:
        found = []
        for table in db.metadata.sorted_tables:
            for column in table.primary_key.columns:
                sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                        {"t": table.name, "c": column.name}).scalar()
                if sequence:
                    found.append((table.name, column.name, sequence))
        _SEQUENCES[key] = found
    return _SEQUENCES[key]


@pytest.fixture(scope="session")
def demo_rows(database_url, tmp_path_factory):
    """The rows of ``seed_demo()``, seeded once per run and database: each test gets a copy inserted
    in one bulk pass (a few milliseconds) instead of running the seed again (0.1-0.2 s of ORM
    work)."""
    application = _make_app(database_url, str(tmp_path_factory.mktemp("seed")))
    empty_tables(application)
    with application.app_context():
        seed_demo()
        db.session.commit()
        with db.engine.connect() as conn:
            rows = {t.name: [dict(r) for r in conn.execute(t.select()).mappings()]
                    for t in db.metadata.sorted_tables}
    empty_tables(application)
    with application.app_context():
        db.engine.dispose()
    return rows


def insert_demo(app, rows):
    """An empty database (whatever a test without the ``app`` fixture left), then the demo seed with
    the ids ``seed_demo()`` gave it."""
    empty_tables(app)
    engine = _engine(app)
    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if rows.get(table.name):
                conn.execute(table.insert(), rows[table.name])
        if engine.dialect.name == "postgresql":
            _set_sequences(conn)


@pytest.fixture
def app_config():
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config, demo_rows):
    application = _make_app(database_url, str(tmp_path), **app_config)
    insert_demo(application, demo_rows)
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

def _serves_a_browser(item):
    return "live_app" in getattr(item, "fixturenames", ())


def _serves_a_gunicorn(item):
    return any(name.endswith("gunicorn_server") for name in getattr(item, "fixturenames", ()))


def _module_fixture(item):
    """True when the test uses a module-scoped fixture of its own (two gunicorns, a database
    upgraded from 0001, 400 MB of hostile files…): built once per module, so the module stays on one
    xdist worker."""
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(d.scope == "module" for defs in info.name2fixturedefs.values()
                                    for d in defs)


def _on_another_backend(item, backend):
    """True for a test that runs on one backend only, asked for the other one while both are
    configured: a browser test runs on PostgreSQL, the production one; a test marked
    ``backend_only("sqlite")`` (what it proves does not depend on the database and it is slow) on
    that one."""
    if backend is None or len(BACKENDS) < 2:
        return False
    marker = item.get_closest_marker("backend_only")
    only = marker.args[0] if marker else ("postgresql" if _serves_a_browser(item) else None)
    return only is not None and backend != only


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks (--dist loadgroup)
def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if _on_another_backend(item, params.get("database_url")):
            dropped.append(item)
            continue
        kept.append(item)
        # a real gunicorn, a browser or a property test takes seconds: `-m "not slow"` leaves them
        # out, `make test` runs them
        function = getattr(item, "obj", None)
        if (_serves_a_gunicorn(item) or _serves_a_browser(item)
                or getattr(function, "is_hypothesis_test", False)):
            item.add_marker(pytest.mark.slow)
        if _serves_a_browser(item):
            item.add_marker(pytest.mark.browser)
        if _module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
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
def context(context):
    """pytest-playwright's context, patient: actions and navigations wait up to PATIENCE (not 30
    s)."""
    context.set_default_timeout(PATIENCE * 1000)
    return context


def wait_until(page, condition, what=""):
    """Until ``condition()`` holds, letting the page run meanwhile (its events, dialogs and
    timers)."""
    hang = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < hang, f"still waiting after {PATIENCE:.0f} s: {what}"
        page.wait_for_timeout(50)


@pytest.fixture
def browser_context_args(playwright, base_url):
    return {**playwright.devices["Pixel 5"], "locale": "fr-FR", "base_url": base_url}


@pytest.fixture
def live_app(database_url, tmp_path, demo_rows):
    """A CSRF-enabled app for the browser, sharing the test database."""
    application = _make_app(database_url, str(tmp_path), WTF_CSRF_ENABLED=True)
    insert_demo(application, demo_rows)
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


@pytest.fixture(scope="session")
def served_templates(tmp_path_factory):
    """backend -> (template url, harness.prepare()'s token and shift): a database migrated and
    seeded with a worker's API token and an open shift, made once per backend and process. Each
    gunicorn test serves a copy of it, as fresh as before, without migrating and seeding again in a
    child process (tens of seconds a test on a busy machine)."""
    from bench import harness
    made, drops = {}, []

    def template(backend):
        if backend not in made:
            if backend == "sqlite":
                url = "sqlite:///" + os.path.join(str(tmp_path_factory.mktemp("served")),
                                                  "template.db")
            else:
                url, drop = _postgres_database()
                drops.append(drop)
            made[backend] = (url, harness.prepare(str(tmp_path_factory.mktemp("prep")), url))
        return made[backend]
    yield template
    for drop in drops:
        drop()


def _copy_database(template_url, tmp_path):
    """A new database holding the template's rows: the SQLite file through the backup API, on
    PostgreSQL CREATE DATABASE ... TEMPLATE (nobody is connected to the template: harness.prepare's
    process is over)."""
    if template_url.startswith("sqlite"):
        import sqlite3
        url = f"sqlite:///{tmp_path}/served.db"
        source, target = (sqlite3.connect(make_url(template_url).database),
                          sqlite3.connect(f"{tmp_path}/served.db"))
        with target:
            source.backup(target)
        source.close()
        target.close()
        return url, None
    return _postgres_database(template_url, template=make_url(template_url).database)


def _serve(backend, tmp_path, served_templates):
    from bench import harness
    template_url, prep = served_templates(backend)
    url, drop = _copy_database(template_url, tmp_path)
    gun = harness.Gunicorn(tmp_path, url, workers=4)
    yield gun, prep["token"], prep["shift_id"], url
    gun.stop()
    if drop:
        drop()


@pytest.fixture(params=BACKENDS)
def gunicorn_server(request, tmp_path, served_templates):
    """(gunicorn, token, shift_id, database url) on a fresh database of the backend: a copy of the
    prepared template (served_templates)."""
    yield from _serve(request.param, str(tmp_path), served_templates)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_gunicorn_server(request, tmp_path_factory, served_templates):
    """The same, one per module and backend (a gunicorn start and a database copy cost seconds),
    for the tests of a module that do not interfere: each counts what it added, and none changes
    the shift or the token."""
    yield from _serve(request.param, str(tmp_path_factory.mktemp("gunicorn")), served_templates)


def browser_login(page, email, password=DEMO_PASSWORD):
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():  # the click alone does not wait for the next page
        page.get_by_role("button", name="Se connecter").click()


