"""Dashboard timing at scale: every indicator of the one-year dashboard from the roll-ups, next to
the same aggregation by direct GROUP BY on the raw tables, in the same run; then, from the same
roll-ups, the read API (GET /api/v1/indicators, one year, every indicator, alone and by team) and
the drill-down by team, each with the SQL statements one request runs, beside the dashboard page's.

    python -m bench.dashboard --encounters 1000000 [--db PATH] [--repeat 7] [--postgresql]

``run(encounters, db_path=None, repeat=7)`` returns a dict for the bench runner (bench/run.py); the
SQLite database is built once with ``seed-demo --encounters`` and reused.
``run_postgresql(encounters)`` creates a database of its own on BENCH_POSTGRES_URL (default: the
server at 127.0.0.1:5432), builds, measures and drops it.
"""
import argparse
import contextlib
import gc
import json
import os
import statistics
import tempfile
import time

# insert: see rollups
from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _app(db_path, url=None):
    """The app as wsgi.py serves it (start-up objects frozen out of the garbage collector's
    passes)."""
    os.environ.setdefault("OUTREACH_INSTANCE_PATH", os.path.dirname(db_path))
    from outreach import create_app
    app = create_app({"DATABASE_URL": url or f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                      "PSEUDONYM_KEY": "bench",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    gc.freeze()
    return app


def build(app, encounters, seed=1):
    """Migrate, seed the demo and a synthetic history of ``encounters`` contacts; returns
    seconds."""
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
        if db.engine.dialect.name == "postgresql":
            # fresh tables have no statistics: plans would be guesses
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return time.perf_counter() - started


def _timed(fn, repeat, cpu=None):
    """Median and minimum wall time (ms); ``cpu`` (a list) also receives the process CPU times,
    which a busy machine inflates less (SQLite runs in this process, so its work is counted)."""
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
                           .select_from(Contact.__table__.join(Shift.__table__,
                                                               Shift.id == Contact.shift_id))
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
    return {**reads(app, client, repeat),
            "dashboard_page_statements": statements(app, client, "/indicateurs"),
            "contacts": contacts, "indicators": indicators,
            "dashboard_rollups_ms": round(rollup_ms, 1),
            "dashboard_rollups_min_ms": round(rollup_min, 1),
            "direct_group_by_ms": round(direct_ms, 1),
            "direct_group_by_min_ms": round(direct_min, 1), "dashboard_page_ms": round(page_ms, 1),
            "dashboard_rollups_cpu_ms": round(statistics.median(rollup_cpu), 1),
            "direct_group_by_cpu_ms": round(statistics.median(direct_cpu), 1),
            "load_average": os.getloadavg()[0], "target_ms": 50 if contacts <= 1_500_000 else 100}


def statements(app, client, url, headers=None):
    """SQL statements one GET of ``url`` runs (after a first, warming GET)."""
    from outreach.extensions import db
    seen = []
    with app.app_context():
        engine = db.engine
    _ok(client.get(url, headers=headers), url)

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        _ok(client.get(url, headers=headers), url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _ok(response, url):
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} "
                           f"{response.get_data(as_text=True)[:300]}")
    return response


def _token(app):
    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import new_api_token
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email="manager@plan.demo")).scalar_one()
        clear = new_api_token(user, "bench")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


def reads(app, client, repeat=7):
    """Wall time (median, min; the app's process plus the database's) and SQL statements of one
    request: the read API for the dashboard's year (every indicator; ten by team) and the
    drill-down by team."""
    from outreach.indicators import services
    with app.test_request_context():
        period = services.parse_period({})
    year = f"from={period.start.isoformat()}&to={period.end.isoformat()}"
    headers = _token(app)
    # by team: 10 indicators a page (every indicator by every team is over READ_MAX_VALUES)
    urls = {"read_api": f"/api/v1/indicators?{year}&per_page=100",
            "read_api_by_team": f"/api/v1/indicators?{year}&group_by=team&per_page=10",
            "drilldown_team_page": "/indicateurs/contacts?by=team"}
    out = {}
    for name, url in urls.items():
        auth = headers if url.startswith("/api/") else None
        out[f"{name}_statements"] = statements(app, client, url, auth)
        median, low = _timed(lambda url=url, auth=auth: _ok(client.get(url, headers=auth), url),
                             repeat)
        out[f"{name}_ms"], out[f"{name}_min_ms"] = round(median, 1), round(low, 1)
    return out


POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def postgres_app(name):
    """An app on a PostgreSQL database of its own, created here and dropped on leaving (the
    PostgreSQL runs of every bench module)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    app = None
    try:
        app = _app(os.path.join(tempfile.mkdtemp(prefix="outreach-bench-pg-"), "unused.db"), url)
        yield app
    finally:
        if app is not None:
            with app.app_context():
                from outreach.extensions import db
                db.session.remove()
                db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_postgresql(encounters=1_000_000, repeat=7, seed=1):
    """The same figures on PostgreSQL: a database of its own, created, built, measured and
    dropped."""
    name = f"outreach_bench_{encounters}_{os.getpid()}"
    with postgres_app(name) as app:
        result = {"backend": "postgresql", "encounters": encounters, "db": name,
                  "build_s": round(build(app, encounters, seed), 1)}
        result.update(measure(app, repeat))
        return result


def run(encounters=1_000_000, db_path=None, repeat=7, seed=1):
    """Build (once) and measure; returns the figures as a dict."""
    db_path = db_path or os.path.join(tempfile.gettempdir(), f"outreach-bench-{encounters}.db")
    fresh = not os.path.exists(db_path)
    app = _app(db_path)
    result = {"backend": "sqlite", "encounters": encounters, "db": db_path}
    if fresh:
        result["build_s"] = round(build(app, encounters, seed), 1)
    result.update(measure(app, repeat))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgresql", action="store_true",
                        help="on a database of its own at BENCH_POSTGRES_URL")
    args = parser.parse_args()
    result = run_postgresql(args.encounters, args.repeat) if args.postgresql else \
        run(args.encounters, args.db, args.repeat)
    print(f"dashboard, {result['indicators']} indicators, {result['contacts']} contacts "
          f"({result['backend']}):")
    print(f"  from roll-ups     {result['dashboard_rollups_ms']:8.1f} ms (target <= "
          f"{result['target_ms']} ms; "
          f"min {result['dashboard_rollups_min_ms']} ms, CPU {result['dashboard_rollups_cpu_ms']} "
          "ms)")
    print(f"  direct GROUP BY   {result['direct_group_by_ms']:8.1f} ms (CPU "
          f"{result['direct_group_by_cpu_ms']} ms)")
    print(f"  load average      {result['load_average']:8.1f}")
    print(f"  whole page (GET)  {result['dashboard_page_ms']:8.1f} ms "
          f"({result['dashboard_page_statements']} statements)")
    for name in ("read_api", "read_api_by_team", "drilldown_team_page"):
        print(f"  {name:<17} {result[name + '_ms']:8.1f} ms ({result[name + '_statements']} "
              "statements)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
