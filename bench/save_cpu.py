"""CPU and Python calls of one contact save, in process (Flask test client, no server, no wrk).

GET /healthz, POST /api/v1/encounters (bearer token) and POST /maraude/contacts (signed-in form) on
a fresh demo database: CPU ms per request (best of 10 batches, the machine is shared), Python
calls per request (cProfile, deterministic: compare two commits with it) and SQL statements per
request (the commit counted as one). The wrk ratio of ``run.throughput`` reflects these costs plus
gunicorn's.

    python -m bench.save_cpu [DATABASE_URL]     (default: a SQLite file in a temporary folder)

``--gunicorn`` measures the same two API requests served by gunicorn (sync, 4 workers, as
``run.throughput``) under wrk at 1, 8 and 32 clients, after 2 s of each at 8 clients (the workers'
first requests compile their statements and read the lists: at 1 client, without it, they weighed
on the figures): the CPU time the workers spent per request (from /proc, whatever else the machine
runs) beside wrk's rates and p50/p99.

    python -m bench.save_cpu --gunicorn [DATABASE_URL | postgresql]

(``postgresql``: a database of its own on BENCH_POSTGRES_URL, created, then dropped.)
"""
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _app(url):
    from flask import request, session
    from flask_migrate import upgrade

    from outreach import create_app
    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import new_api_token
    from outreach.seed import seed_demo
    from outreach.shifts.services import start_shift
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b", "PSEUDONYM_KEY": "b",
                      "RATELIMIT_ENABLED": False})

    @app.before_request
    def _flash_seen():  # the page a form's redirect leads to shows (and drops) the flash
        if request.endpoint == "contacts.new":
            session.pop("_flashes", None)

    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        token = new_api_token(user, "bench")
        shift = start_shift(user, {"team_id": user.teams[0].id, "staff_count": 2, "sector_ids": []})
        db.session.commit()
        return app, token, shift.id


def requests(url):
    """{name: function sending one request}."""
    from outreach.seed import DEMO_PASSWORD
    app, token, shift_id = _app(url)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    api, web = app.test_client(), app.test_client()
    login = CSRF.search(web.get("/connexion").text).group(1)
    web.post("/connexion", data={"csrf_token": login, "email": "worker@aurore.demo",
                                 "password": DEMO_PASSWORD, "totp": ""})
    form_token = CSRF.search(web.get("/maraude").text).group(1)

    def healthz():
        assert api.get("/healthz").status_code == 200

    def post_api():
        body = {"id": str(uuid.uuid4()), "shift_id": shift_id, "occurred_at": now,
                "sector": "stalingrad", "kind": "anonymous", "people_count": 1, "sex": "m",
                "age_band": "26_35"}
        answer = api.post("/api/v1/encounters", json=body,
                          headers={"Authorization": "Bearer " + token})
        assert answer.status_code == 201, answer.data[:300]

    def post_form():
        answer = web.post("/maraude/contacts", data={
            "csrf_token": form_token, "id": str(uuid.uuid4()), "shift_id": shift_id,
            "kind": "anonymous", "people_count": "1", "sex": "m", "age_band": "26_35",
            "sector": "stalingrad"})
        assert answer.status_code == 302, answer.text[:300]

    return {"healthz": healthz, "api_post": post_api, "form_post": post_form}


def cpu_ms(fn, batches=10, size=30):
    for _ in range(20):
        fn()
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(size):
            fn()
        best = min(best, (time.process_time() - start) / size * 1000)
    return round(best, 2)


def calls(fn, n=50):
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        fn()
    profile.disable()
    return round(sum(v[1] for v in pstats.Stats(profile).stats.values()) / n)


def statements(fn):
    """SQL statements of one request, its commit included."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(Engine, "before_cursor_execute", count)
    event.listen(Engine, "commit", count)
    try:
        fn()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
        event.remove(Engine, "commit", count)
    return len(seen)


def _worker_cpu(pids):
    """CPU seconds (user + system) the processes ``pids`` have spent so far."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def served(url=None, seconds=5.0, clients=(1, 8, 32)):
    """Per client count: GET /healthz and POST /api/v1/encounters under wrk, each with the
    gunicorn workers' CPU ms per request; the POST/healthz ratios of rates and of CPU."""
    from bench import harness, wrk
    tmp = tempfile.mkdtemp(prefix="outreach-save-cpu-")
    url = url or f"sqlite:///{tmp}/served.db"
    prep = harness.prepare(tmp, url)
    server = harness.Gunicorn(tmp, url, workers=4)
    rows = []
    try:
        pids = server.worker_pids()
        for mode in ("healthz", "encounters"):  # every worker compiles its statements first
            wrk.run(server.port, 8, 2, mode, prep["token"], prep["shift_id"])
        for n in clients:
            row = {"clients": n}
            for name, mode in (("healthz", "healthz"), ("post", "encounters")):
                before = _worker_cpu(pids)
                step = wrk.run(server.port, n, seconds, mode, prep["token"], prep["shift_id"])
                step["cpu_ms"] = round((_worker_cpu(pids) - before) * 1000
                                       / max(step["requests"], 1), 2)
                row[name] = step
            row["ratio"] = round(row["post"]["rps"] / max(row["healthz"]["rps"], 0.1), 3)
            row["cpu_ratio"] = round(row["healthz"]["cpu_ms"] / max(row["post"]["cpu_ms"], 0.01),
                                     3)
            row["load"] = os.getloadavg()[0]
            rows.append(row)
    finally:
        server.stop()
    return rows


def served_postgresql(seconds=5.0):
    """``served`` on PostgreSQL, in a database of its own (created, then dropped)."""
    from sqlalchemy import create_engine, text

    from bench.dashboard import POSTGRES_URL
    name = f"outreach_save_cpu_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return served(admin.url.set(database=name).render_as_string(hide_password=False), seconds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_served(rows):
    print("clients | healthz rps p50 p99 cpu_ms | POST rps p50 p99 cpu_ms | ratio cpu_ratio | load")
    for r in rows:
        h, p = r["healthz"], r["post"]
        print(f"{r['clients']:>7} | {h['rps']} {h['p50_ms']} {h['p99_ms']} {h['cpu_ms']} | "
              f"{p['rps']} {p['p50_ms']} {p['p99_ms']} {p['cpu_ms']} "
              f"(5xx {p['5xx']}, non-2xx {p['non_2xx']}) | {r['ratio']} {r['cpu_ratio']} | "
              f"{r['load']:.1f}")


def main(url=None):
    tmp = tempfile.mkdtemp(prefix="outreach-save-cpu-")
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", tmp)
    fns = requests(url or f"sqlite:///{tmp}/save.db")
    return {name: {"cpu_ms": cpu_ms(fn), "calls": calls(fn), "statements": statements(fn)}
            for name, fn in fns.items()}


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--gunicorn"]:
        seconds = float(os.environ.get("BENCH_SECONDS", "5"))
        print_served(served_postgresql(seconds) if args[1:] == ["postgresql"]
                     else served(args[1] if len(args) > 1 else None, seconds))
    else:
        print(main(args[0] if args else None))
