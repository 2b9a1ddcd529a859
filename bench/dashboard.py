"""Dashboard timing at scale: every indicator of the one-year dashboard from the roll-ups,
next to the same aggregation by direct GROUP BY on the raw tables, in the same run.

    python -m bench.dashboard --encounters 1000000 [--db PATH] [--repeat 7]

``run(encounters, db_path=None, repeat=7)`` returns a dict for the bench runner
(bench/run.py). The database is built once with ``seed-demo --encounters`` and reused.
"""
import argparse
import gc
import json
import os
import statistics
import tempfile
import time

from sqlalchemy import func, insert, select  # noqa: F401 (insert kept for readers comparing with rollups)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _app(db_path):
    """The app as wsgi.py serves it (start-up objects frozen out of the garbage collector's passes)."""
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", os.path.dirname(db_path))
    from outreach import create_app
    app = create_app({"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "bench", "PSEUDONYM_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    gc.freeze()
    return app


def build(app, encounters, seed=1):
    """Migrate, seed the demo and a synthetic history of ``encounters`` contacts; returns seconds."""
    from flask_migrate import upgrade

    from outreach.extensions import db
    from outreach.indicators.synthetic import build_history
    from outreach.seed import seed_demo
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        print(build_history(encounters, seed), flush=True)
    return time.perf_counter() - started


def _timed(fn, repeat, cpu=None):
    """Median and minimum wall time (ms); ``cpu`` (a list) also receives the process CPU times, which a
    busy machine inflates less (SQLite runs in this process, so its work is counted)."""
    times = []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(times), min(times)


def dashboard_once(user):
    """The one-year (last 12 months) dashboard with every indicator, all organisations."""
    from outreach.extensions import db
    from outreach.indicators import services
    period = services.parse_period({})
    _plan, actions = services.dashboard(period, {}, user)
    db.session.rollback()
    return sum(len(a["rows"]) for a in actions)


def direct_once():
    """The same figures straight from the raw tables: every roll-up source GROUP BY over the
    dashboard window (current and previous year) plus exact distinct persons."""
    from outreach.extensions import db
    from outreach.indicators import rollups, services
    from outreach.models import Contact, Shift
    period = services.parse_period({})
    window = (period.previous().start, rollups.add_months(period.end, 1))
    dialect = db.engine.dialect.name
    for stmt in rollups.source_statements(dialect, rollups.range_window(*window)):
        db.session.execute(stmt).all()
    for start in (period.previous().start, period.start):
        end = rollups.add_months(start, 12)
        db.session.execute(select(func.count(Contact.person_id.distinct()))
                           .select_from(Contact.__table__.join(Shift.__table__, Shift.id == Contact.shift_id))
                           .where(Contact.occurred_on >= start, Contact.occurred_on < end,
                                  Shift.status == "validated")).scalar()
    db.session.rollback()


def measure(app, repeat=7):
    from outreach.extensions import db
    from outreach.models import Contact, User
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email="manager@plan.demo")).scalar_one()
        contacts = db.session.execute(select(func.count()).select_from(Contact)).scalar()
        indicators = dashboard_once(user)  # warm caches
        direct_once()
        rollup_cpu, direct_cpu = [], []
        rollup_ms, rollup_min = _timed(lambda: dashboard_once(user), repeat, rollup_cpu)
        direct_ms, direct_min = _timed(direct_once, max(3, repeat // 2), direct_cpu)
    client = app.test_client()
    client.post("/connexion", data={"email": "manager@plan.demo", "password": "demo-password"})
    page_ms, _ = _timed(lambda: client.get("/indicateurs"), 3)
    return {"contacts": contacts, "indicators": indicators, "dashboard_rollups_ms": round(rollup_ms, 1),
            "dashboard_rollups_min_ms": round(rollup_min, 1), "direct_group_by_ms": round(direct_ms, 1),
            "direct_group_by_min_ms": round(direct_min, 1), "dashboard_page_ms": round(page_ms, 1),
            "dashboard_rollups_cpu_ms": round(statistics.median(rollup_cpu), 1),
            "direct_group_by_cpu_ms": round(statistics.median(direct_cpu), 1), "load_average": os.getloadavg()[0],
            "target_ms": 50 if contacts <= 1_500_000 else 100}


def run(encounters=1_000_000, db_path=None, repeat=7, seed=1):
    """Build (once) and measure; returns the figures as a dict."""
    db_path = db_path or os.path.join(tempfile.gettempdir(), f"outreach-bench-{encounters}.db")
    fresh = not os.path.exists(db_path)
    app = _app(db_path)
    result = {"encounters": encounters, "db": db_path}
    if fresh:
        result["build_s"] = round(build(app, encounters, seed), 1)
    result.update(measure(app, repeat))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    result = run(args.encounters, args.db, args.repeat)
    print(f"dashboard, {result['indicators']} indicators, {result['contacts']} contacts (SQLite):")
    print(f"  from roll-ups     {result['dashboard_rollups_ms']:8.1f} ms (target <= {result['target_ms']} ms; "
          f"min {result['dashboard_rollups_min_ms']} ms, CPU {result['dashboard_rollups_cpu_ms']} ms)")
    print(f"  direct GROUP BY   {result['direct_group_by_ms']:8.1f} ms (CPU {result['direct_group_by_cpu_ms']} ms)")
    print(f"  load average      {result['load_average']:8.1f}")
    print(f"  whole page (GET)  {result['dashboard_page_ms']:8.1f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
