"""Production shape: two app instances (two gunicorn processes on different ports) sharing one
PostgreSQL database and one Redis for the rate limits (OUTREACH_RATELIMIT_STORAGE_URI).

Needs TEST_DATABASE_URL (PostgreSQL) and Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/15).
Skipped when either is unreachable, except with CI=true: CI starts both (.ci/run), so it fails
there.
"""
import os
import random
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from bench import harness

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LOGIN_LIMIT = 5


def _unavailable(reason):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} -- CI=true, where .ci/run starts PostgreSQL and Redis")
    pytest.skip(reason)


def _postgres_url():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        _unavailable("TEST_DATABASE_URL is not a PostgreSQL URL: two instances need one shared "
                     "PostgreSQL")
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable here"
        _unavailable(f"PostgreSQL unreachable at TEST_DATABASE_URL: {type(exc).__name__}")
    finally:
        engine.dispose()


def _redis():
    try:
        import redis
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3, socket_connect_timeout=3)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"Redis unreachable at {REDIS_URL}: {type(exc).__name__}: {exc}")
    return client


def _clear_limits(client):
    for key in client.scan_iter("LIMITS*"):
        client.delete(key)


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """(instance A, instance B, token, shift id, database url): one database, one Redis, two
    gunicorns."""
    _postgres_url()
    client = _redis()
    _clear_limits(client)
    from conftest import _postgres_database
    url, drop = _postgres_database()
    prep = harness.prepare(str(tmp_path_factory.mktemp("prep")), url)
    shared = {"OUTREACH_RATELIMIT_STORAGE_URI": REDIS_URL,
              "OUTREACH_LOGIN_LIMIT": f"{LOGIN_LIMIT} per minute"}
    started = []
    try:
        for name in ("a", "b"):
            started.append(
                harness.Gunicorn(str(tmp_path_factory.mktemp(name)), url, workers=2, **shared))
        yield started[0], started[1], prep["token"], prep["shift_id"], url
    finally:
        for gun in started:
            gun.stop()
        drop()
        _clear_limits(client)


def test_writes_through_both_instances_are_stored_once(instances):
    a, b, token, shift, url = instances
    rng = random.Random(92)
    bodies = [harness.encounter(shift) for _ in range(300)]
    sends = {a.port: [], b.port: []}
    for body in bodies:
        for _ in range(rng.randint(1, 3)):
            sends[rng.choice((a.port, b.port))].append(("POST", "/api/v1/encounters", body))
    for jobs in sends.values():
        rng.shuffle(jobs)
    results = []
    loaders = [threading.Thread(target=lambda p=port,
                                j=jobs: results.extend(harness.load(p, j, 4, token=token)))
               for port, jobs in sends.items()]
    for t in loaders:
        t.start()
    for t in loaders:
        t.join()  # every request is bounded by harness.PATIENCE
    assert {r[0] for r in results} <= {200, 201}, [r[:3] for r in results
                                                   if r[0] not in (200, 201)][:3]
    created = [r[3]["id"] for r in results if r[0] == 201]
    # each contact created exactly once
    assert sorted(created) == sorted(body["id"] for body in bodies)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id FROM contacts WHERE shift_id = :s"),
                                {"s": shift}).scalars().all()
    finally:
        engine.dispose()
    assert sorted(rows) == sorted(created)
    # Whichever instance took the write, the other one reads it.
    for body in bodies[:20]:
        for gun in (a, b):
            status, answer = harness.request(gun.port, "GET", f"/api/v1/encounters/{body['id']}",
                                             token=token)
            assert status == 200 and body["id"] in answer


def test_login_failures_on_one_instance_count_on_the_other(instances):
    a, b, *_ = instances
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    on_a = [harness.Browser(a.port).post_form("/connexion", "/connexion", email=email,
                                              password="wrong", totp="")[0]
            for _ in range(LOGIN_LIMIT)]
    assert on_a == [401] * LOGIN_LIMIT
    # Instance B never saw these failures; the shared Redis counters refuse the next attempt anyway.
    status, html, _ = harness.Browser(b.port).post_form("/connexion", "/connexion", email=email,
                                                        password="wrong", totp="")
    assert status == 429, html[:300]
    # The real password of a real account is refused too while the address is over its limit.
    assert harness.Browser(b.port).login(harness.WORKER) == 429
    assert harness.Browser(a.port).login(harness.WORKER) == 429
