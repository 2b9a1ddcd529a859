"""Shared by bench/run.py and tests/test_reliability_*.py: a real gunicorn on a temporary, migrated,
seeded database; a bearer token and an open shift for the demo worker; a threaded load generator.

Loopback only. Every wait is for an event (a server answering, a process ending, a thread
finishing); PATIENCE only bounds a wait that would otherwise hang on a bug, far beyond what a busy
machine needs.
"""
import http.client
import json
import os
import re
import subprocess  # nosec B404 - starts our own gunicorn
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = "worker@aurore.demo"
SUPERVISOR = "supervisor@aurore.demo"
# outreach.seed.DEMO_PASSWORD, repeated to keep this module import-light
DEMO_PASSWORD = "demo-password"
# Seconds before a wait that never ends is called a hang (a socket read, a server start). Not a
# deadline: on a 2-core machine at load 20 the slowest of these waits takes tens of seconds.
# TEST_PATIENCE overrides.
PATIENCE = float(os.environ.get("TEST_PATIENCE", "300"))


def _no_control_socket():
    """gunicorn >= 24 opens a control socket at one path per user: several servers at once would
    share it."""
    from gunicorn.config import KNOWN_SETTINGS
    return ["--no-control-socket"] if any(s.name == "control_socket_disable"
                                          for s in KNOWN_SETTINGS) else []


def env_for(instance, database_url, **extra):
    env = dict(os.environ, OUTREACH_INSTANCE_PATH=instance, OUTREACH_DATABASE_URL=database_url,
               OUTREACH_SECRET_KEY="bench-secret", OUTREACH_PSEUDONYM_KEY="bench-pseudonym",
               OUTREACH_RATELIMIT_ENABLED="0")
    env.update(extra)
    return env


def prepare(instance, database_url):
    """Migrate + seed in a child process; returns {"token", "shift_id"} for the demo worker."""
    code = (
        "import json\n"
        "from flask_migrate import upgrade\n"
        "from outreach import create_app\n"
        "from outreach.extensions import db\n"
        "from outreach.models import User\n"
        "from outreach.seed import seed_demo\n"
        "from outreach.security import new_api_token\n"
        "from outreach.shifts.services import start_shift\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(); seed_demo(); db.session.commit()\n"
        f"    user = db.session.execute(db.select(User).filter_by(email={WORKER!r})).scalar_one()\n"
        "    token = new_api_token(user, 'bench')\n"
        "    team = user.teams[0] if hasattr(user, 'teams') and user.teams else None\n"
        "    shift = start_shift(user, {'team_id': team.id if team else None, 'staff_count': 2, "
        "'sector_ids': []})\n    db.session.commit()\n"
        "    print(json.dumps({'token': token, 'shift_id': shift.id}))\n"
    )
    # nosec B603
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                         env=env_for(instance, database_url),
                         capture_output=True, text=True, timeout=PATIENCE, check=False)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


class Gunicorn:
    """gunicorn wsgi:app, sync workers, on a loopback port the system picks (no race with other
    servers)."""

    LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")

    def __init__(self, instance, database_url, workers=4, **extra_env):
        self.port = None
        # opened for appending (SIM115 allowed): gunicorn shares the file offset
        self.log = open(  # noqa: SIM115
            os.path.join(instance, f"gunicorn-{uuid.uuid4().hex[:8]}.log"), "a+")
        cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b",
               "127.0.0.1:0",
               "--timeout", str(int(PATIENCE)), "--graceful-timeout", "5", *_no_control_socket(),
               "wsgi:app"]
        # nosec B603
        self.proc = subprocess.Popen(cmd, cwd=ROOT,
                                     env=env_for(instance, database_url, **extra_env),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self):
        """Until gunicorn says where it listens and /healthz answers 200 there (a worker has
        booted), or gunicorn exits (a start that failed: its log says why)."""
        hang = time.monotonic() + PATIENCE
        while time.monotonic() < hang:
            if self.port is None and (found := self.LISTENING.search(self.output())):
                self.port = int(found.group(1))
            try:
                if self.port is not None and request(self.port, "GET", "/healthz")[0] == 200:
                    return  # the request waits until a worker has booted and answers
            except OSError:
                pass  # gunicorn closed the connection: it is exiting, which the wait below sees
            try:
                self.proc.wait(0.2)  # returns at once if gunicorn exits; else look again
                break
            except subprocess.TimeoutExpired:
                continue
        self.stop()
        raise RuntimeError("gunicorn did not start (exit code "
                           f"{self.proc.returncode}):\n{self.output()[-3000:]}")

    def worker_pids(self):
        # nosec B603 B607
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True,
                             timeout=PATIENCE, check=False)
        return [int(p) for p in out.stdout.split()]

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def request(port, method, path, body=None, token=None, conn=None, timeout=PATIENCE):
    """One request; returns (status, text). Reuses ``conn`` when given (keep-alive)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        if own:
            conn.close()


def encounter(shift_id, contact_id=None):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": contact_id or str(uuid.uuid4()), "shift_id": shift_id, "occurred_at": now,
            "sector": "stalingrad",
            "kind": "anonymous", "people_count": 1, "sex": "m", "age_band": "26_35"}


def load(port, jobs, clients, token=None, duration=None, on_result=None):
    """Run ``jobs`` (list of (method, path, body or callable)) over ``clients`` threads.

    With ``duration``, jobs are cycled until the time runs out. Returns a list of
    (status, latency_s, text, body) tuples; ``on_result(results)`` is called after each one is added
    (under the lock), so a caller can act on progress, e.g. set an event once enough are answered.
    """
    results, lock, index = [], threading.Lock(), [0]
    stop_at = time.monotonic() + duration if duration else None

    def next_job():
        with lock:
            i = index[0]
            index[0] += 1
        if stop_at is None:
            return jobs[i] if i < len(jobs) else None
        return None if time.monotonic() > stop_at else jobs[i % len(jobs)]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
        while (job := next_job()) is not None:
            method, path, body = job
            body = body() if callable(body) else body
            started = time.perf_counter()
            try:
                status, text = request(port, method, path, body, token, conn=conn)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
                status, text = 0, repr(exc)
            with lock:
                results.append((status, time.perf_counter() - started, text, body))
                if on_result is not None:
                    on_result(results)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # each request is bounded by its socket timeout, a duration by its clock
    return results


class Browser:
    """A signed-in web user: keeps the session cookie, sends the CSRF token, never follows
    redirects."""

    CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, port, timeout=PATIENCE):
        self.port, self.timeout, self.cookies = port, timeout, {}

    def request(self, method, path, form=None):
        """Returns (status, text, location)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = ({"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
                   if self.cookies else {})
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            for cookie in resp.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return resp.status, resp.read().decode("utf-8", "replace"), resp.headers.get("Location")
        finally:
            conn.close()

    def csrf(self, path):
        """GET ``path``; returns (status, text, csrf token or None)."""
        status, text, _ = self.request("GET", path)
        found = self.CSRF.search(text)
        return status, text, found.group(1) if found else None

    def post_form(self, page, action, **fields):
        """Submit a form of ``page`` to ``action`` with the page's CSRF token."""
        _, _, token = self.csrf(page)
        return self.request("POST", action, {"csrf_token": token or "", **fields})

    def login(self, email, password=DEMO_PASSWORD):
        """POST the login form; returns the status (302 when signed in)."""
        return self.post_form("/connexion", "/connexion", email=email, password=password,
                              totp="")[0]


def api_available(port, token):
    status, _ = request(port, "POST", "/api/v1/encounters", {}, token)
    return status not in (404, 405)
