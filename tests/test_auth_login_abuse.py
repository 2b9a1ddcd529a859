"""Login abuse: progressive delays per account and per address instead of a lockout a stranger
could trigger, one answer whether the account exists or not, counters shared by every process,
and no production start with per-process rate limits in several workers."""
import os
import subprocess  # nosec B404
import sys

import pytest
from auth_helpers import clock_fixture  # noqa: F401 (the clock fixture)
from conftest import _make_app

from bench.harness import PATIENCE
from outreach import ROOT as ROOT_DIR
from outreach.extensions import db
from outreach.models import AuditEvent
from outreach.seed import DEMO_PASSWORD

WORKER = "worker@aurore.demo"
# the defaults of LOGIN_DELAY_AFTER and LOGIN_MAX_DELAY_MINUTES (literal: the tests also
FREE, LONGEST = 5, 15
                       # ran against the code of before, which had neither)


def _attempt(client, email, password="wrong password!", address="192.0.2.1"):
    return client.post("/connexion", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _message(response):
    page = response.get_data(as_text=True)
    return page[page.index('class="flash'):][:300] if 'class="flash' in page else page[:300]


def test_ten_failures_from_ten_addresses_do_not_lock_the_owner_out(app, client, clock):
    """Before: 10 wrong passwords from anywhere locked the account until an admin acted."""
    for i in range(10):
        _attempt(client, WORKER, address=f"198.51.100.{i}")
    clock(minutes=LONGEST + 1)
    assert _attempt(client, WORKER, DEMO_PASSWORD, address="203.0.113.7").status_code == 302


def test_delays_grow_and_end_by_themselves(app, client, clock):
    statuses = [_attempt(client, WORKER, address=f"198.51.100.{i}").status_code
                for i in range(FREE + 1)]
    assert statuses == [401] * (FREE + 1)
    # not even checked during the wait
    assert _attempt(client, WORKER, DEMO_PASSWORD).status_code == 429
    clock(minutes=0.6)  # the first wait is 30 s
    assert _attempt(client, WORKER).status_code == 401  # checked again, wrong again: now 60 s
    clock(minutes=0.6)
    assert _attempt(client, WORKER, DEMO_PASSWORD).status_code == 429
    clock(minutes=0.6)
    assert _attempt(client, WORKER, DEMO_PASSWORD).status_code == 302


def test_an_unknown_account_gets_the_same_answers_as_a_real_one(app):
    answers = {}
    for email in (WORKER, "nobody@nowhere.demo"):
        client = app.test_client()
        seen = [_attempt(client, email, address=f"198.51.100.{i}") for i in range(FREE + 2)]
        answers[email] = [(r.status_code, _message(r)) for r in seen]
    assert answers[WORKER] == answers["nobody@nowhere.demo"]
    assert answers[WORKER][-1][0] == 429 and "Trop de tentatives" in answers[WORKER][-1][1]
    assert "verrouill" not in str(answers)


# each unknown account costs a full hash
@pytest.mark.parametrize("app_config", [{"LOGIN_DELAY_AFTER_ADDRESS": 4}])
def test_one_address_trying_many_accounts_is_slowed_down(app, client):
    for i in range(app.config["LOGIN_DELAY_AFTER_ADDRESS"] + 1):
        _attempt(client, f"guess{i}@aurore.demo", address="192.0.2.66")
    assert _attempt(client, WORKER, DEMO_PASSWORD, address="192.0.2.66").status_code == 429
    assert _attempt(app.test_client(), WORKER, DEMO_PASSWORD,
                    address="192.0.2.67").status_code == 302


def test_failures_count_across_processes(app, database_url, tmp_path):
    """Two apps on one database, as two gunicorn workers: the failures add up (the in-memory
    limiter split them)."""
    other = _make_app(database_url, str(tmp_path / "other"))
    first, second = app.test_client(), other.test_client()
    for i in range(FREE + 1):
        _attempt(first if i % 2 else second, WORKER, address=f"198.51.100.{i}")
    assert _attempt(first, WORKER, DEMO_PASSWORD).status_code == 429
    assert _attempt(second, WORKER, DEMO_PASSWORD).status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_a_delay_is_audited(app, client):
    for i in range(FREE + 1):
        _attempt(client, WORKER, address=f"198.51.100.{i}")
    with app.app_context():
        actions = db.session.execute(db.select(AuditEvent.action)).scalars().all()
    assert actions.count("login_failed") == FREE + 1 and "login_delayed" in actions


def _gunicorn(workers, **env):
    environment = {**os.environ, "OUTREACH_ENV": "production", "OUTREACH_SECRET_KEY": "s" * 32,
                   "OUTREACH_PSEUDONYM_KEY": "p" * 32, **env}
    # nosec B603
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("workers", [2, 4])
def test_production_refuses_several_workers_with_per_process_limits(tmp_path, workers):
    proc = _gunicorn(workers, OUTREACH_INSTANCE_PATH=str(tmp_path),
                     OUTREACH_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
                     OUTREACH_RATELIMIT_STORAGE_URI="memory://")
    output, _ = proc.communicate(timeout=PATIENCE)  # a hang guard: it refuses to start
    assert (proc.returncode != 0 and "OUTREACH_RATELIMIT_STORAGE_URI" in output
            and f"{workers} workers" in output)


def test_the_defaults_are_the_ones_tested(app):
    assert (app.config["LOGIN_DELAY_AFTER"],
            app.config["LOGIN_MAX_DELAY_MINUTES"]) == (FREE, LONGEST)


def test_one_worker_may_count_in_memory(tmp_path):
    from outreach.config import limiter_problem
    assert limiter_problem({"ENV": "production", "RATELIMIT_STORAGE_URI": "memory://"}, 1) is None
    assert limiter_problem(
        {"ENV": "production", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, 4) is None
    assert limiter_problem({"ENV": "development", "RATELIMIT_STORAGE_URI": "memory://"}, 4) is None


def test_the_readme_says_what_a_deployment_must_set():
    with open(os.path.join(ROOT_DIR, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    security = readme[readme.index("## Security"):]
    security = security[:security.index("\n## ", 5)]
    for needed in ("HTTPS", "Strict-Transport-Security", "OUTREACH_HSTS_SECONDS",
                   "OUTREACH_PROXY_HOPS=1",
                   "OUTREACH_RATELIMIT_STORAGE_URI=redis://", "gunicorn.conf.py",
                   "OUTREACH_SESSION_MAX_HOURS",
                   "OUTREACH_TOKEN_DAYS", "OUTREACH_LOGIN_DELAY_AFTER"):
        assert needed in security, needed
    assert 'add_header Strict-Transport-Security' in readme  # the nginx block
