"""Time to sync queued contacts from the browser's IndexedDB queue through the API (target: 200 in <
5 s).

    python -m bench.offline_sync [--contacts 200]

``run(contacts=200)`` returns a dict for the bench runner (bench/run.py): it starts the app on a
temporary SQLite file (CSRF on, like production), logs the demo worker in with Debian's Chromium,
puts ``contacts`` records in the queue with ``outreachQueue.add`` and times ``outreachQueue.sync()``
until the queue is empty. Without the real API (``api.*``) a stand-in with the contract's answers
is used and the result says so.
"""
import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime

TARGET_S = 5.0
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _app(tmpdir):
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", tmpdir)
    from outreach import create_app
    return create_app({"DATABASE_URL": f"sqlite:///{tmpdir}/bench.db", "SECRET_KEY": "bench",
                       "PSEUDONYM_KEY": "bench", "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": True})


def _stand_in(app):
    """Contract answers (201 / 200 replay / 422) kept in memory, for when the API is not there
    yet."""
    from flask import jsonify, request

    from outreach.access import Blueprint
    store = {}
    bp = Blueprint("bench_standin", __name__, roles={"worker"}, api=True)

    @bp.route("/api/v1/encounters", methods=["POST"])
    def encounters():
        data = request.get_json()
        if data["id"] in store:
            return jsonify(store[data["id"]]), 200
        store[data["id"]] = {"id": data["id"], "shift_id": data["shift_id"], "kind": data["kind"]}
        return jsonify(store[data["id"]]), 201
    app.register_blueprint(bp)
    return lambda: len(store)


def _prepare(app):
    """Migrate, seed, open a shift for the demo worker; returns (shift_id, count_on_server, api)."""
    from flask_migrate import upgrade

    from outreach.extensions import db
    from outreach.models import Contact, Team, User
    from outreach.seed import seed_demo
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        shift_id = str(uuid.uuid4())
        if "api.create_encounter" in app.view_functions or "contacts.new" in app.view_functions:
            from outreach.shifts.services import start_shift
            user = db.session.execute(
                db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
            team = db.session.execute(db.select(Team).filter_by(code="aurore_nord")).scalar_one()
            start_shift(user,
                        {"id": shift_id, "team_id": team.id, "sector_ids": [], "staff_count": 2,
                         "stock_out": {}})
            db.session.commit()

            def count():
                with app.app_context():
                    return db.session.query(Contact).count()
            return shift_id, count, "real"
    return shift_id, _stand_in(app), "stand-in"


def _bodies(shift_id, n):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"id": str(uuid.uuid4()), "shift_id": shift_id, "occurred_at": now,
             "sector": "stalingrad",
             "kind": "anonymous", "people_count": 1, "sex": "m", "age_band": "26_35"}
            for _ in range(n)]


def _serve(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _time_sync(base_url, bodies):
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        page = browser.new_page(base_url=base_url)
        page.goto("/connexion")
        page.fill("input[name=email]", "worker@aurore.demo")
        page.fill("input[name=password]", "demo-password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.goto("/file-attente")
        page.context.set_offline(True)  # nothing leaves while the queue fills
        page.evaluate("bs => Promise.all(bs.map(b => outreachQueue.add('contact', "
                      "'/api/v1/encounters', b, 'bench')))",
                      bodies)
        page.context.set_offline(False)
        started = time.perf_counter()
        page.evaluate("outreachQueue.sync()")
        left = page.evaluate("outreachQueue.all().then(rs => rs.length)")
        seconds = time.perf_counter() - started
        browser.close()
    return seconds, left


def run(contacts=200):
    """Queue ``contacts`` records in Chromium, time one sync; returns the figures as a dict."""
    tmpdir = tempfile.mkdtemp(prefix="outreach-offline-bench-")
    app = _app(tmpdir)
    shift_id, count, api = _prepare(app)
    server = _serve(app)
    try:
        seconds, left = _time_sync(f"http://127.0.0.1:{server.server_port}",
                                   _bodies(shift_id, contacts))
        on_server = count()
    finally:
        server.shutdown()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return {"name": "offline_sync", "contacts": contacts, "sync_s": round(seconds, 2),
            "target_s": TARGET_S,
            "ok": seconds < TARGET_S and left == 0 and on_server == contacts, "left_in_queue": left,
            "on_server": on_server, "api": api}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200)
    print(json.dumps(run(parser.parse_args().contacts), indent=2))


if __name__ == "__main__":
    main()
