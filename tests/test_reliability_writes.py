"""A contact saved is a contact kept, once: real gunicorn, concurrent replays, a worker killed
mid-load. One gunicorn per backend for the module: each test counts the rows it added."""
import os
import random
import signal
import threading
import uuid

from sqlalchemy import create_engine, text

from bench import harness


def _count(url, ids=None):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if ids is None:
                return conn.execute(text("SELECT count(*) FROM contacts")).scalar()
            rows = conn.execute(text("SELECT id FROM contacts")).scalars()
            return set(ids) - set(rows)
    finally:
        engine.dispose()


CONTACTS = 300  # sent 600 times in all by 8 clients at once: replays race their first sending


def test_contacts_sent_one_to_three_times_by_eight_clients_are_stored_once(shared_gunicorn_server):
    gun, token, shift, url = shared_gunicorn_server
    before = _count(url)
    rng = random.Random(9)
    bodies = [harness.encounter(shift) for _ in range(CONTACTS)]
    jobs = [("POST", "/api/v1/encounters", b) for b in bodies for _ in range(rng.randint(1, 3))]
    rng.shuffle(jobs)
    results = harness.load(gun.port, jobs, 8, token=token)
    statuses = {r[0] for r in results}
    assert statuses <= {200, 201}, [r[:3] for r in results if r[0] not in (200, 201)][:3]
    assert sum(1 for r in results if r[0] == 201) == CONTACTS
    assert _count(url) - before == CONTACTS
    assert "database is locked" not in gun.output()


def test_worker_killed_during_writes_loses_no_acknowledged_contact(shared_gunicorn_server):
    gun, token, shift, url = shared_gunicorn_server
    before = _count(url)
    bodies = [harness.encounter(shift) for _ in range(400)]
    jobs = [("POST", "/api/v1/encounters", b) for b in bodies]
    results, under_way = [], threading.Event()

    def progress(answered):
        if sum(1 for r in answered if r[0] in (200, 201)) >= 50:
            under_way.set()

    def send():
        try:
            results.extend(harness.load(gun.port, jobs, 8, token=token, on_result=progress))
        finally:
            under_way.set()  # a load that ended early must not leave the test waiting
    loader = threading.Thread(target=send)
    loader.start()
    under_way.wait()  # 50 contacts acknowledged: the load is running, whatever the machine's speed
    victim = gun.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    loader.join()
    acknowledged = [r[3]["id"] for r in results if r[0] in (200, 201)]
    assert len(acknowledged) >= 50 and len(results) == len(jobs)
    assert _count(url, acknowledged) == set()
    # The master replaced the killed worker: the service still answers and replays stay idempotent.
    status, _ = harness.request(gun.port, "POST", "/api/v1/encounters", bodies[0], token)
    assert status in (200, 201)
    assert _count(url) - before <= 400


def test_unique_uuid_twice_in_parallel_is_one_row(shared_gunicorn_server):
    gun, token, shift, url = shared_gunicorn_server
    before = _count(url)
    body = harness.encounter(shift, str(uuid.uuid4()))
    results = harness.load(gun.port, [("POST", "/api/v1/encounters", body)] * 16, 16, token=token)
    assert sorted({r[0] for r in results}) in ([200, 201], [201])
    assert _count(url) - before == 1
