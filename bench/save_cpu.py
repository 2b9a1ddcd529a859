"""CPU and Python calls of one contact save, in process (Flask test client, no server, no wrk).

GET /healthz, POST /api/v1/encounters (bearer token) and POST /maraude/contacts (signed-in form) on
a fresh demo database: CPU ms per request (best of 10 batches, the machine is shared), Python
calls per request (cProfile, deterministic: compare two commits with it) and SQL statements per
request (the commit counted as one). The wrk ratio of ``run.throughput`` reflects these costs plus
gunicorn's.

    python -m bench.save_cpu [DATABASE_URL]     (default: a SQLite file in a temporary folder)
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


def main(url=None):
    tmp = tempfile.mkdtemp(prefix="outreach-save-cpu-")
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", tmp)
    fns = requests(url or f"sqlite:///{tmp}/save.db")
    return {name: {"cpu_ms": cpu_ms(fn), "calls": calls(fn), "statements": statements(fn)}
            for name, fn in fns.items()}


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else None))
