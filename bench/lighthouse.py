"""Lighthouse mobile accessibility of the logging page (/maraude with an open shift) and of the
tally page (/maraude/compteur), issue 16 "Done means": the target is 100. Run alone
(`python -m bench.lighthouse`) or from bench/run.py (`optional("lighthouse")`); returns
{"pages": {path: score}} or {"available": False, ...}.

Lighthouse 12 from npm (package.json; 13 needs Node 22) drives Debian's Chromium (CHROME_PATH)
headless, on a throw-away SQLite database seeded with the demo and served by gunicorn, as the demo
worker (session cookie passed as a header)."""
import http.cookiejar
import json
import os
import re
import shutil
import subprocess  # nosec B404 - fixed commands, no shell
import sys
import tempfile
import urllib.parse
import urllib.request

from bench import harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIGHTHOUSE = os.path.join(ROOT, "node_modules", ".bin", "lighthouse")
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PAGES = ("/maraude", "/maraude/compteur")
FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"


def _session_cookie(port):
    """Log the demo worker in (the login form, its CSRF token); the Cookie header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(base + "/connexion", timeout=harness.PATIENCE).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": harness.WORKER, "password": harness.DEMO_PASSWORD,
                                   "csrf_token": token}).encode()
    opener.open(base + "/connexion", data=data, timeout=harness.PATIENCE).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _score(url, cookie):
    cmd = [LIGHTHOUSE, url, "--only-categories=accessibility", "--form-factor=mobile",
           "--output=json", "--quiet", f"--chrome-flags={FLAGS}",
           "--extra-headers", json.dumps({"Cookie": cookie})]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180,  # nosec B603
                         check=False, env=dict(os.environ, CHROME_PATH=CHROME))
    if out.returncode:
        raise RuntimeError(out.stderr[-1500:])
    report = json.loads(out.stdout)
    failed = [a for a, r in report["audits"].items() if r.get("score") == 0]
    score = round(report["categories"]["accessibility"]["score"] * 100)
    return {"score": score, "failed_audits": failed,
            "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl")}


def run():
    if not os.path.exists(LIGHTHOUSE) or not shutil.which(CHROME):
        return {"available": False,
                "reason": "lighthouse (npm) or Chromium missing: make node_modules/.installed"}
    with tempfile.TemporaryDirectory() as instance:
        url = f"sqlite:///{instance}/lighthouse.db"
        harness.prepare(instance, url)  # migrated, seeded, the demo worker's shift open
        server = harness.Gunicorn(instance, url, workers=1)
        try:
            cookie = _session_cookie(server.port)
            base = f"http://127.0.0.1:{server.port}"
            return {"pages": {path: _score(base + path, cookie) for path in PAGES}, "target": 100}
        finally:
            server.stop()


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=1)
    print()
