"""Import speed: rows per second of ``import_contacts`` (check + bulk write) on a fresh SQLite file.

    python -m bench.import_speed --rows 200000 [--db PATH | --url postgresql+psycopg://.../EMPTY_DB]

``run(rows=200_000, db_path=None, url=None)`` returns a dict for the bench runner (``make bench``);
``rows_per_second(...)`` returns the headline figure: check + write + commit, the roll-up refresh
timed apart. Target: >= 50,000 rows/s. ``db_insert_s`` is the time spent inside the database's own
bulk inserts (``executemany`` / ``COPY``): ``db_rows_per_s`` is the ceiling the database allows
whatever the Python side does.
``rows_per_cpu_s`` divides by this process's CPU time instead of the wall clock: on a shared, loaded
machine it shows the code's own speed (on PostgreSQL most of the work is the server's, not counted
there).
"""
import argparse
import json
import os
import random
import tempfile
import time
from datetime import date, timedelta

TARGET = 50_000


def _app(db_path, url=None):
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", os.path.dirname(db_path))
    from outreach import create_app
    return create_app({"DATABASE_URL": url or f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                       "PSEUDONYM_KEY": "bench", "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": False})


def synthetic_rows(n, seed=1):
    """n template rows as read from a file: [(line, {column: text})], like the demo
    organisation's."""
    rng = random.Random(seed)
    teams, sectors = ("aurore_nord", "aurore_est"), ("stalingrad", "chapelle", "eole", "jaures", "")
    start = date(2022, 1, 1)
    rows = []
    for i in range(n):
        kind = rng.choices(("known", "anonymous", "refusal"), (75, 20, 5))[0]
        digest = f"{rng.randrange(n // 6 + 1):064x}" if kind == "known" else ""
        rows.append((i + 2, {
            "date": (start + timedelta(days=rng.randrange(1000))).isoformat(),
            "time": f"{rng.randrange(18, 24)}:{rng.randrange(60):02d}", "team": rng.choice(teams),
            "sector": rng.choice(sectors), "kind": kind,
            "people_count": "1" if kind == "known" else str(rng.randint(1, 3)),
            "sex": rng.choice("mmfx"), "age_band": rng.choice(("18_25", "26_35", "36_45")),
            "living_situation": "rue", "products": rng.choice(("crack", "", "crack|alcool")),
            "needs": "", "materials": rng.choice(("kit_base:1", "", "kit_base:2|naloxone:1")),
            "orientation": "csapa" if rng.random() < 0.05 else "", "accompanied": "",
            "programme": "assore" if kind == "known" and rng.random() < 0.02 else "",
            "digest": digest}))
    return rows


def run(rows=200_000, db_path=None, url=None):
    """Import ``rows`` synthetic rows into a fresh database (or the empty database at ``url``);
    returns the timings."""
    from flask_migrate import upgrade

    from outreach.extensions import db
    from outreach.imports import services
    from outreach.models import Organisation
    from outreach.seed import seed_demo
    db_path = db_path or os.path.join(tempfile.mkdtemp(), "import-bench.db")
    app = _app(db_path, url)
    data = synthetic_rows(rows)
    with app.app_context(), app.test_request_context():
        upgrade()
        seed_demo()
        db.session.commit()
        org = db.session.execute(db.select(Organisation).filter_by(code="aurore")).scalar_one()
        user = services.default_importer(org)
        timings = _timed_import(services, data, org, user, db.session.commit)
    return {"rows": rows, **timings, "target_rows_per_s": TARGET,
            "db": url.split("@")[-1] if url else db_path}


def _timed_import(services, data, org, user, commit):
    started, cpu_started = time.perf_counter(), time.process_time()
    refreshed, inserting = {}, [0.0]
    original_refresh, original_insert = services._refresh, services._Writer._insert

    def timed_refresh(months):
        begin, cpu_begin = time.perf_counter(), time.process_time()
        original_refresh(months)
        refreshed["s"] = time.perf_counter() - begin
        refreshed["cpu"] = time.process_time() - cpu_begin

    def timed_insert(writer, table, columns, rows):
        begin = time.perf_counter()
        original_insert(writer, table, columns, rows)
        inserting[0] += time.perf_counter() - begin
    services._refresh, services._Writer._insert = timed_refresh, timed_insert
    try:
        report = services.import_contacts(data, org, user)
        commit()
    finally:
        services._refresh, services._Writer._insert = original_refresh, original_insert
    total = time.perf_counter() - started
    write = total - refreshed.get("s", 0)
    cpu = time.process_time() - cpu_started - refreshed.get("cpu", 0)
    return {"created": report.created, "errors": len(report.errors), "import_s": round(write, 2),
            "rollup_refresh_s": round(refreshed.get("s", 0), 2),
            "rows_per_s": int(report.created / write),
            "cpu_s": round(cpu, 2), "rows_per_cpu_s": int(report.created / cpu),
            "db_insert_s": round(inserting[0], 2),
            "db_rows_per_s": int(report.created / inserting[0])}


def rows_per_second(rows=200_000, db_path=None, url=None):
    """The headline figure for the bench runner: imported rows per second (check + bulk write)."""
    return run(rows, db_path, url)["rows_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--db", default=None,
                        help="SQLite file to create (default: a temporary one)")
    parser.add_argument("--url", default=None, help="an EMPTY PostgreSQL database to use instead")
    args = parser.parse_args()
    result = run(args.rows, args.db, args.url)
    print(f"import of {result['created']} contacts ({'PostgreSQL' if args.url else 'SQLite'}): "
          f"{result['rows_per_s']:,} rows/s (target >= {TARGET:,}); {result['rows_per_cpu_s']:,} "
          "rows per CPU "
          f"second; {result['db_insert_s']} s inside the database's bulk inserts (its ceiling: "
          f"{result['db_rows_per_s']:,} rows/s); roll-up refresh {result['rollup_refresh_s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
