"""The plan's report card at scale: server time of one year's card (every section: statuses,
budgets, places and occupancy, stays, exits, returns, coverage) on the dashboard's synthetic
history, and the SQL statements it runs.

    python -m bench.planexec --encounters 1000000 [--db PATH] [--repeat 7] [--postgresql]

Target: <= 50 ms server time at 1M contacts (the dashboard's budget). The database is built once
with the dashboard bench's ``build`` (demo seed, plan execution included, then ``build_history``) in
a file of its own (``--db`` reuses one: building 1M contacts takes most of an hour).

Besides wall time (median and minimum), the computation's process CPU time is printed, with the
machine's load average before and after: SQLite runs in this process, so CPU time counts its work
and is what a busy machine (a shared CI runner) inflates least. History at 1M contacts, 9,590 stays
(SQLite, 2 shared cores):
- 12.9 s page, 47 statements: ~4 referral queries per programme, returns joined on contacts per
  programme;
- before issue 20, same database, load 3.5: page 783 ms (48 statements), computation 820 ms (min
  729);
- issue 20 (the period's referral rows read once, no ORDER BY on the text key in SQL; returns one
  statement; file active from the dashboard's span counts), load 5.9: page 230 ms (24 statements),
  computation 175 ms (min 128), CPU 113 ms (min 95). Still over 50 ms: what is left is reading
  ~7,600 referral rows (~40 ms), splitting them (~30 ms), the file active's cell key (~15 ms) and,
  on the page, formatting ~280 numbers.
- roll-ups (``planexec.rollup``: ``plan_stays``, ``plan_stay_months``, caught up with the
  dashboard's marks): see bench/README.md for the figures on SQLite and PostgreSQL. The page's CPU
  time (``card_page_cpu_ms``: this process, so SQLite's work but not PostgreSQL's) is printed beside
  its wall time.
- reads by exit day walking the index by day, the exits read once, the plan's outline in plain
  reads, statements built once, numbers without Babel (2026-12-02, load 9.5): page 23 statements,
  CPU 41 ms (94 before), computation CPU 28 ms (75 before); not measured on an idle machine.
"""
import argparse
import json
import os
import statistics
import tempfile

from bench.dashboard import _app, _ok, _timed, build, postgres_app, statements

TARGET_MS = 50


def _year(app):
    from outreach.planexec import card
    with app.test_request_context():
        period = card.parse_period({}, card.today())
    return f"from={period.first.isoformat()}&to={period.last.isoformat()}", period


def measure(app, repeat=7):
    from sqlalchemy import func, select

    from outreach.extensions import db
    from outreach.models import Contact, Referral
    from outreach.planexec import card
    query, period = _year(app)
    with app.test_request_context():
        contacts = db.session.execute(select(func.count()).select_from(Contact)).scalar()
        stays = db.session.execute(select(func.count()).select_from(Referral)
                                   .where(Referral.admitted_on.isnot(None))).scalar()
        card.report_card(period)  # warm
        load_before = os.getloadavg()[0]
        cpu = []
        compute_ms, compute_min = _timed(lambda: (card.report_card(period), db.session.rollback()),
                                         repeat, cpu)
    client = app.test_client()
    client.post("/connexion", data={"email": "manager@plan.demo", "password": "demo-password"})
    url = f"/execution/?{query}"
    page_cpu = []
    page_ms, page_min = _timed(lambda: _ok(client.get(url), url), repeat, page_cpu)
    api = f"/api/v1/plan/places?{query}"
    api_ms, _ = _timed(lambda: _ok(client.get(api), api), repeat)
    return {"contacts": contacts, "stays": stays, "card_compute_ms": round(compute_ms, 1),
            "card_compute_min_ms": round(compute_min, 1),
            "card_compute_cpu_ms": round(statistics.median(cpu), 1),
            "card_compute_cpu_min_ms": round(min(cpu), 1), "card_page_ms": round(page_ms, 1),
            "card_page_min_ms": round(page_min, 1),
            "card_page_statements": statements(app, client, url),
            "card_page_cpu_ms": round(statistics.median(page_cpu), 1),
            "card_page_cpu_min_ms": round(min(page_cpu), 1),
            "api_places_ms": round(api_ms, 1), "target_ms": TARGET_MS,
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count()}


def _upgrade(app):
    import time

    from flask_migrate import upgrade
    started = time.perf_counter()
    with app.app_context():
        upgrade()
    return time.perf_counter() - started


def run(encounters=1_000_000, db_path=None, repeat=7, seed=1):
    db_path = db_path or os.path.join(tempfile.gettempdir(),
                                      f"outreach-bench-planexec-{encounters}.db")
    fresh = not os.path.exists(db_path)
    app = _app(db_path)
    result = {"backend": "sqlite", "encounters": encounters, "db": db_path}
    return _build_or_upgrade_then_measure(app, result, fresh, encounters, repeat, seed)


def _build_or_upgrade_then_measure(app, result, fresh, encounters, repeat, seed):
    """Build a new database, or upgrade a kept one (built before a migration, e.g. 0015's stays),
    then measure and print."""
    if fresh:
        result["build_s"] = round(build(app, encounters, seed), 1)
    else:
        result["upgrade_s"] = round(_upgrade(app), 1)
    result.update(measure(app, repeat))
    _print(result)
    return result


def run_postgresql(encounters=1_000_000, repeat=7, seed=1, keep=None):
    """A database of its own, built, measured and dropped; ``keep``: the database of that name,
    built when missing and kept (measure again after a change without building 1M contacts
    again)."""
    if keep:
        return _run_kept(keep, encounters, repeat, seed)
    with postgres_app(f"outreach_bench_planexec_{encounters}_{os.getpid()}") as app:
        result = {"backend": "postgresql", "encounters": encounters,
                  "build_s": round(build(app, encounters, seed), 1)}
        result.update(measure(app, repeat))
        _print(result)
        return result


def _run_kept(name, encounters, repeat, seed):
    from sqlalchemy import create_engine, text

    from bench.dashboard import POSTGRES_URL
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        fresh = not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name}).first()
        if fresh:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    app = _app(os.path.join(tempfile.mkdtemp(prefix="outreach-bench-pg-"), "unused.db"), url)
    result = {"backend": "postgresql", "encounters": encounters, "db": name}
    return _build_or_upgrade_then_measure(app, result, fresh, encounters, repeat, seed)


def _print(r):
    verdict = "ok" if r["card_page_ms"] <= r["target_ms"] else "OVER"
    print(f"== plan report card, one year, {r['contacts']} contacts, {r['stays']} stays "
          f"({r['backend']}): "
          f"page {r['card_page_ms']} ms ({r['card_page_statements']} statements; target <= "
          f"{r['target_ms']} ms: "
          f"{verdict}; CPU {r['card_page_cpu_ms']} ms, min {r['card_page_cpu_min_ms']}), "
          f"computation {r['card_compute_ms']} ms (min {r['card_compute_min_ms']}; CPU "
          f"{r['card_compute_cpu_ms']} ms, min {r['card_compute_cpu_min_ms']}), API places "
          f"{r['api_places_ms']} ms; "
          f"load average {r['load_average'][0]} -> {r['load_average'][1]} on {r['cpus']} CPUs",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--keep", default=None,
                        help="PostgreSQL: reuse (or build and keep) this database")
    args = parser.parse_args()
    result = run_postgresql(args.encounters, args.repeat, keep=args.keep) if args.postgresql else \
        run(args.encounters, args.db, args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
