"""`make bench`: figures against this machine's ceilings; prints a table, writes bench/results.json.

- write throughput of POST /api/v1/encounters next to GET /healthz, same gunicorn (sync, 4 workers),
  same run, at 1, 8 and 32 concurrent clients (threaded keep-alive load generator, loopback);
- dashboard times (bench/dashboard.py), offline sync of 200 contacts (bench/offline_sync.py),
  logging page weight gzipped (the page and every file its <link> and <script> tags load, gzip -6 as
  nginx).
- the dashboard, the read API (GET /api/v1/indicators) and the drill-down by team from the same
  roll-ups, on SQLite and on PostgreSQL (a database of its own, created and dropped), side by side.
- every manager page, the first read after a backlog of roll-up marks and the SQL statements of a
  contact save (bench/reads.py); the peak memory of a streamed CSV import (bench/import_memory.py);
  both databases.
Environment: BENCH_SECONDS (per step, default 5), BENCH_SCALE or BENCH_ENCOUNTERS (contacts, default
1000000), BENCH_IMPORT_MEMORY_ROWS (rows of the imported file, default 1000000),
BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
BENCH_POSTGRES_5M=1 (also 5M contacts on PostgreSQL), BENCH_POSTGRES=0 (skip PostgreSQL).
"""
import gzip
import importlib
import json
import os
import re
import statistics
import sys
import tempfile
import time

from bench import harness, wrk

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")
CLIENTS = (1, 8, 32)


def _stats(results, seconds):
    lat = sorted(r[1] for r in results) or [0.0]
    return {"requests": len(results), "rps": round(len(results) / seconds, 1),
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
            "5xx": sum(1 for r in results if r[0] >= 500 or r[0] == 0),
            "locked": sum(1 for r in results if "database is locked" in r[2])}


TOOL = "wrk" if wrk.available() else "python threads (install wrk for steadier figures)"


def _step(port, clients, seconds, mode, token=None, shift=None):
    """One load step with wrk when installed, else with the threaded generator of
    bench/harness.py."""
    if wrk.available():
        return wrk.run(port, clients, seconds, mode, token, shift)
    if mode == "healthz":
        return _stats(harness.load(port, [("GET", "/healthz", None)], clients, duration=seconds),
                      seconds)
    job = ("POST", "/api/v1/encounters", lambda: harness.encounter(shift))
    res = harness.load(port, [job], clients, token=token, duration=seconds)
    return {**_stats(res, seconds), "non_2xx": sum(1 for r in res if r[0] not in (200, 201))}


def throughput(seconds, url=None):
    """POST /api/v1/encounters beside GET /healthz, on a fresh SQLite file (or the empty database at
    ``url``)."""
    tmp = tempfile.mkdtemp(prefix="outreach-bench-")
    url = url or f"sqlite:///{tmp}/bench.db"
    prep = harness.prepare(tmp, url)
    server = harness.Gunicorn(tmp, url, workers=4)
    try:
        token, shift = prep["token"], prep["shift_id"]
        available = harness.api_available(server.port, token)
        rows = []
        for n in CLIENTS:
            row = {"clients": n, "healthz": _step(server.port, n, seconds, "healthz")}
            if available:
                row["encounters"] = _step(server.port, n, seconds, "encounters", token, shift)
                row["ratio"] = round(row["encounters"]["rps"] / max(row["healthz"]["rps"], 0.1), 3)
            rows.append(row)
        log = server.output()
        return {"api": available, "tool": TOOL, "rows": rows,
                "server_locked_in_log": log.count("database is locked"),
                "backend": url.split(":", 1)[0].split("+", 1)[0]}
    finally:
        server.stop()


def throughput_postgresql(seconds):
    """The same load on PostgreSQL, in a database of its own (created, then dropped)."""
    from sqlalchemy import create_engine, text

    from bench.dashboard import POSTGRES_URL
    name = f"outreach_throughput_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return throughput(seconds,
                          admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


GZIP_LEVEL = 6  # nginx gzip_comp_level in the README
PAGE_BUDGET = 14 * 1024  # gzip level 6, as the README's nginx block sets (gzip_comp_level 6)
# Loaded by the page's scripts only when needed: sync.js when records wait on the device (or at
# logout), sha256.js on origins without crypto.subtle (plain http). Reported, not counted in the
# page's weight; tests/test_shifts_page_size.py checks in Chromium that a normal visit loads nothing
# else.
LAZY = ("/static/js/sync.js", "/static/js/sha256.js")
ASSET = re.compile(rb'<(?:link|script)\b[^>]*?\b(?:href|src)="(/[^"]*)"')


def page_parts(html, get):
    """Gzipped bytes of a page and of every same-origin file its <link> and <script> tags load
    (stylesheet, scripts, icon, manifest). ``get(url)`` returns a file's bytes."""
    parts = {"html": len(gzip.compress(html, GZIP_LEVEL))}
    for url in dict.fromkeys(u.decode() for u in ASSET.findall(html)):
        parts[url] = len(gzip.compress(get(url), GZIP_LEVEL))
    return parts


def page_weight():
    """The logging page (/maraude with an open shift) and the shift start page, with what they
    load."""
    from outreach import create_app
    from outreach.extensions import db
    from outreach.models import User
    from outreach.seed import DEMO_PASSWORD, seed_demo
    tmp = tempfile.mkdtemp(prefix="outreach-weight-")
    os.environ["OUTREACH_INSTANCE_PATH"] = tmp
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp}/w.db", "SECRET_KEY": "b", "PSEUDONYM_KEY": "b",
         "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    from flask_migrate import upgrade
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        team = (
            db.session.execute(db.select(User).filter_by(email=harness.WORKER)).scalar_one().teams[0].code)
    client = app.test_client()
    client.post("/connexion", data={"email": harness.WORKER, "password": DEMO_PASSWORD})
    get = lambda url: client.get(url).get_data()
    start = page_parts(get("/maraude"), get)
    client.post("/maraude", data={"team": team})
    html = get("/maraude")
    if b'id="contact-form"' not in html:
        return {"error": "no contact form on /maraude after starting a shift"}
    parts = page_parts(html, get)
    return {"url": "/maraude", "gzip_level": GZIP_LEVEL, "parts": parts,
            "total_gz_bytes": sum(parts.values()),
            "target_bytes": PAGE_BUDGET, "start_page_gz_bytes": sum(start.values()),
            "lazy_gz_bytes": {url: len(gzip.compress(get(url), GZIP_LEVEL)) for url in LAZY},
            "service_worker_gz_bytes": len(gzip.compress(get("/sw.js"), GZIP_LEVEL))}


def optional(module, function="run", **kwargs):
    """bench/dashboard.py and bench/offline_sync.py are written by other helpers."""
    try:
        mod = importlib.import_module(f"bench.{module}")
    except ImportError as exc:
        return {"available": False, "reason": str(exc)}
    try:
        return getattr(mod, function)(**kwargs)
    except Exception as exc:  # noqa: BLE001 - a bench step failing must not hide the others
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"}


def print_table(out):
    for key in ("throughput", "throughput_postgresql"):
        if key in out:
            print_throughput(out[key])
    _print_rest(out)


def print_throughput(tp):
    if "rows" not in tp:
        print(f"== write throughput: {tp}")
        return
    print(f"== write throughput (gunicorn sync x4, {tp.get('backend', 'sqlite')}, loopback, load: "
          f"{tp.get('tool')}) ==")
    print(f"{'clients':>7} {'healthz rps':>12} {'p50':>7} {'p99':>7} | {'POST rps':>9} {'p50':>7} "
          f"{'p99':>7}"
          f" {'ratio':>6} {'5xx':>4} {'locked':>6}")
    for row in tp["rows"]:
        h, e = row["healthz"], row.get("encounters")
        line = f"{row['clients']:>7} {h['rps']:>12} {h['p50_ms']:>7} {h['p99_ms']:>7} |"
        line += (f" {e['rps']:>9} {e['p50_ms']:>7} {e['p99_ms']:>7} {row['ratio']:>6} "
                 f"{e['5xx']:>4} {e['locked']:>6}"
                 if e else "  POST /api/v1/encounters not available")
        print(line)
    print("targets: ratio >= 0.3, p99 <= 100 ms at 32 clients, 0 locked")


def _print_rest(out):
    w = out["page_weight"]
    print(f"== logging page gzipped: {w.get('total_gz_bytes')} bytes (target <= {PAGE_BUDGET}) "
          f"{w.get('parts')}")
    print(f"   not counted: start page {w.get('start_page_gz_bytes')}, loaded when needed "
          f"{w.get('lazy_gz_bytes')},"
          f" service worker {w.get('service_worker_gz_bytes')}")
    print_reads(out)
    for key in ("manager_pages", "manager_pages_postgresql"):
        if "pages" in out.get(key, {}):
            importlib.import_module("bench.reads").print_result(out[key])
    for key in ("import_memory", "import_memory_postgresql"):
        if "import_mb" in out.get(key, {}):
            m = out[key]
            print(f"== import of a {m['rows']:,}-row CSV ({m['file_mb']} MB), {m['backend']}: "
                  f"{m['import_mb']} MB"
                  f" for the import (peak RSS {m['peak_rss_mb']} MB; target <= {m['target_mb']} "
                  f"MB), {m['seconds']} s")
    for key in ("dashboard", *READ_RUNS, "manager_pages", "manager_pages_postgresql",
                "import_memory", "import_memory_postgresql", "offline_sync", "import_speed"):
        if key in out:
            print(f"== {key}: {json.dumps(out[key])}")


READ_RUNS = ("dashboard_postgresql", "dashboard_postgresql_5m")
READ_ROWS = (("dashboard page", "dashboard_page"), ("read API, every indicator", "read_api"),
             ("read API, 10 by team", "read_api_by_team"),
             ("drill-down by team", "drilldown_team_page"))


def print_reads(out):
    """Dashboard page, read API and drill-down, one column per database and size: ms (SQL
    statements)."""
    runs = [out[k] for k in ("dashboard", *READ_RUNS) if k in out and "read_api_ms" in out[k]]
    if not runs:
        return
    heads = [f"{r.get('backend', 'sqlite')} {r['contacts'] / 1e6:g}M" for r in runs]
    print(f"== reads from the roll-ups, server time median ms (SQL statements), load average "
          f"{', '.join(str(round(r['load_average'], 1)) for r in runs)} ==")
    print(f"{'':<28}" + "".join(f"{h:>20}" for h in heads))
    for label, key in READ_ROWS:
        print(f"{label:<28}" + "".join(f"{_cell(r, key):>20}" for r in runs))
    print("targets: read API <= 50 ms at 1M, <= 100 ms at 5M; every manager page <= 100 ms at 1M")


def _cell(run, key):
    ms, count = run.get(f"{key}_ms"), run.get(f"{key}_statements")
    return "-" if ms is None else f"{ms} ({count})"


def main():
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    started = time.monotonic()
    postgres = os.environ.get("BENCH_POSTGRES", "1") != "0"
    out = {"throughput": throughput(seconds)}
    if postgres:
        try:
            out["throughput_postgresql"] = throughput_postgresql(seconds)
        except Exception as exc:  # noqa: BLE001 - a bench step failing must not hide the others
            out["throughput_postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        out["page_weight"] = page_weight()
    except Exception as exc:  # noqa: BLE001
        out["page_weight"] = {"error": f"{type(exc).__name__}: {exc}"}
    encounters = int(os.environ.get("BENCH_SCALE", os.environ.get("BENCH_ENCOUNTERS", "1000000")))
    out["dashboard"] = optional("dashboard", encounters=encounters)
    out["manager_pages"] = optional("reads", encounters=encounters)
    if postgres:
        out["dashboard_postgresql"] = optional("dashboard", "run_postgresql", encounters=encounters)
        out["manager_pages_postgresql"] = optional("reads", "run_postgresql", encounters=encounters)
        if os.environ.get("BENCH_POSTGRES_5M") == "1":
            out["dashboard_postgresql_5m"] = optional("dashboard", "run_postgresql",
                                                      encounters=5_000_000)
    import_rows = int(os.environ.get("BENCH_IMPORT_MEMORY_ROWS", "1000000"))
    out["import_memory"] = optional("import_memory", rows=import_rows)
    if postgres:
        out["import_memory_postgresql"] = optional("import_memory", rows=import_rows,
                                                   postgresql=True)
    out["offline_sync"] = optional("offline_sync", contacts=200)
    out["import_speed"] = optional("import_speed",
                                   rows=int(os.environ.get("BENCH_IMPORT_ROWS", "200000")))
    # mobile accessibility of the logging and tally pages (100)
    out["lighthouse"] = optional("lighthouse")
    # the plan's report card, one year (<= 50 ms)
    out["planexec"] = optional("planexec", encounters=encounters)
    if postgres:
        out["planexec_postgresql"] = optional("planexec", "run_postgresql", encounters=encounters)
    out["elapsed_s"] = round(time.monotonic() - started, 1)
    with open(RESULTS, "w") as fh:
        json.dump(out, fh, indent=2)
    print_table(out)
    print(f"written {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
