"""Manager pages and the write path at scale, on SQLite or PostgreSQL, beside bench/dashboard.py:

- every manager page (dashboard, one indicator, pathway, plan, drill-downs by team, sector and
  month): server time (median of a few GETs, test client: no network) and SQL statements;
- the first read after a busy night: a backlog of roll-up marks (every team marked for the running
  and the previous month, ``MARKS_PER_SLICE`` marks each, as a night of contacts leaves them),
  caught up alone (``catch_up``: ms and statements); then the same backlog and one GET of the
  dashboard, which answers from the roll-ups as they stand, with their time, while a background
  thread catches up (``ROLLUPS_READ_SLICES``), and how long that thread took;
- a contact save: SQL statements of one POST /maraude/contacts (known person with a kit) and of the
  service alone (``record_contact`` + commit).

    python -m bench.reads --encounters 200000 [--postgresql]

``run(encounters)`` / ``run_postgresql(encounters)`` return a dict for bench/run.py; the database
is built as bench/dashboard.py builds it (SQLite file reused; PostgreSQL: a database of its own,
dropped).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import date

from sqlalchemy import event, select

from bench import dashboard

MANAGER_PAGES = (
    "/indicateurs",
    "/indicateurs/contacts",
    "/parcours",
    "/plan",
    "/indicateurs/contacts?by=team",
    "/indicateurs/contacts?by=sector",
    "/indicateurs/contacts?by=month",
)
MARKS_PER_SLICE = 20
WORKER = "worker@aurore.demo"


def _count(engine, fn):
    seen = []

    def one(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", one)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", one)
    return len(seen)


def _ms(fn, repeat=5, cpu=None):
    """Median wall ms of ``fn``; ``cpu`` (a list) also receives the median process CPU ms, which a
    loaded machine inflates less (on SQLite it counts the database's work too, on PostgreSQL
    not)."""
    times, cpu_times = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - started_cpu) * 1000)
    if cpu is not None:
        cpu.append(round(statistics.median(cpu_times), 1))
    return round(statistics.median(times), 1)


def pages(app, client, engine):
    out = {}
    for url in MANAGER_PAGES:
        dashboard._ok(client.get(url), url)
        cpu = []
        out[url] = {
            "ms": _ms(lambda url=url: dashboard._ok(client.get(url), url), cpu=cpu),
            "cpu_ms": cpu[0],
            "statements": _count(engine, lambda url=url: client.get(url)),
        }
    return out


def _mark_backlog(app):
    """Marks for every team, running and previous month, ``MARKS_PER_SLICE`` each; returns (marks,
    slices)."""
    from outreach.extensions import db
    from outreach.indicators.rollups import add_months, month_start
    from outreach.models import RollupDirty, Team

    today = month_start(date.today())
    months = (add_months(today, -1), today)
    with app.app_context():
        teams = db.session.execute(select(Team.organisation_id, Team.id)).all()
        db.session.execute(
            RollupDirty.__table__.insert(),
            [
                {"organisation_id": org, "team_id": team, "month": month}
                for org, team in teams
                for month in months
                for _ in range(MARKS_PER_SLICE)
            ],
        )
        db.session.commit()
        marks = db.session.execute(select(db.func.count()).select_from(RollupDirty)).scalar()
    return marks, len(teams) * len(months)


LAG_NOTICE = "Chiffres arrêtés à"


def backlog(app, client, engine, repeat=3):
    """A night's backlog of marks, caught up alone (time and SQL statements of ``catch_up``); then,
    ``repeat`` times, the same backlog and the first dashboard read: it answers from the roll-ups
    as they stand with the figures' time (``ROLLUPS_READ_SLICES``) while a background thread
    catches up; its time, CPU time of its own thread (the catch-up runs beside it), statements,
    whether it shows the notice, and how long the background catch-up took; then the next read."""
    from outreach.extensions import db
    from outreach.indicators import rollups

    marks, slices = _mark_backlog(app)
    timed = {}

    def alone():
        with app.app_context():
            started, started_cpu = time.perf_counter(), time.process_time()
            rollups.catch_up(db.session)
            timed["catch_up"] = round((time.perf_counter() - started) * 1000, 1)
            timed["catch_up_cpu"] = round((time.process_time() - started_cpu) * 1000, 1)
            db.session.commit()

    catch_up_statements = _count(engine, alone)
    reads, cpus, backgrounds, notices, statements = [], [], [], [], []
    for _ in range(repeat):
        _mark_backlog(app)
        seen = {}

        def first_read(seen=seen):
            started, started_cpu = time.perf_counter(), time.thread_time()
            response = client.get("/indicateurs")
            seen["ms"] = (time.perf_counter() - started) * 1000
            seen["cpu"] = (time.thread_time() - started_cpu) * 1000
            seen["started"] = started
            dashboard._ok(response, "/indicateurs")
            seen["notice"] = LAG_NOTICE in response.get_data(as_text=True)
            seen["response"] = response

        statements.append(_count(engine, first_read))
        seen["response"].close()  # as a server does once the answer is sent: starts the catch-up
        thread = rollups._background["thread"]
        if thread is not None:
            thread.join()
        backgrounds.append((time.perf_counter() - seen["started"]) * 1000)
        reads.append(seen["ms"])
        cpus.append(seen["cpu"])
        notices.append(seen["notice"])
    return {
        "marks": marks,
        "slices": slices,
        "read_slices": rollups.read_slices(app),
        "catch_up_ms": timed["catch_up"],
        "catch_up_cpu_ms": timed["catch_up_cpu"],
        "catch_up_statements": catch_up_statements,
        "first_read_ms": round(statistics.median(reads), 1),
        "first_read_min_ms": round(min(reads), 1),
        "first_read_cpu_ms": round(statistics.median(cpus), 1),
        "first_read_statements": max(statements),
        "first_read_notice": all(notices),
        "background_catch_up_ms": round(statistics.median(backgrounds), 1),
        "next_read_ms": _ms(lambda: client.get("/indicateurs"), 3),
    }


def save_statements(app, engine):
    """SQL statements of one contact save: the whole POST, and record_contact + commit alone."""
    from outreach.contacts import services as contacts
    from outreach.extensions import db
    from outreach.models import Shift, User
    from outreach.reference import services as reference

    worker = app.test_client()
    worker.post("/connexion", data={"email": WORKER, "password": "demo-password"})
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email=WORKER)).scalar_one()
        team = user.teams[0].code
    worker.post("/maraude", data={"team": team, "staff_count": "2"})
    form = {
        "kind": "known",
        "pseudo_initial": "B",
        "pseudo_name": "BENCH",
        "pseudo_birth": "1980",
        "pseudo_sex": "f",
        "material-kit_base": "1",
    }
    worker.post("/maraude/contacts", data=form)
    post = _count(engine, lambda: worker.post("/maraude/contacts", data=form))
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email=WORKER)).scalar_one()
        shift = (
            db.session.execute(select(Shift).filter_by(opened_by_id=user.id, status="open"))
            .scalars()
            .first()
        )
        kit = reference.codes_to_ids("material")["kit_base"]

        def save():
            contacts.record_contact(
                shift, user, {"kind": "known", "digest": "b" * 64, "materials": {kit: 1}}
            )
            db.session.commit()

        save()
        service = _count(engine, save)
    return {"post_contact_statements": post, "record_contact_statements": service}


def measure(app):
    from outreach.extensions import db

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.post("/connexion", data={"email": "manager@plan.demo", "password": "demo-password"})
    return {
        "pages": pages(app, client, engine),
        "backlog": backlog(app, client, engine),
        **save_statements(app, engine),
        "load_average": round(os.getloadavg()[0], 1),
    }


def run(encounters=1_000_000, db_path=None, with_dashboard=False):
    db_path = db_path or os.path.join(tempfile.gettempdir(), f"outreach-bench-{encounters}.db")
    fresh = not os.path.exists(db_path)
    app = dashboard._app(db_path)
    result = {"backend": "sqlite", "encounters": encounters}
    if fresh:
        result["build_s"] = round(dashboard.build(app, encounters), 1)
    else:  # a kept database built before a migration (0017's index on contacts by team)
        from bench.planexec import _upgrade
        result["upgrade_s"] = round(_upgrade(app), 1)
    return _measure_all(app, result, with_dashboard)


def run_postgresql(encounters=1_000_000, with_dashboard=False):
    """``with_dashboard``: bench/dashboard.py's figures too, from the same database (one build of
    1M rows instead of two)."""
    with dashboard.postgres_app(f"outreach_reads_{encounters}_{os.getpid()}") as app:
        result = {"backend": "postgresql", "encounters": encounters,
                  "build_s": round(dashboard.build(app, encounters), 1)}
        return _measure_all(app, result, with_dashboard)


def _measure_all(app, result, with_dashboard):
    if with_dashboard:
        result["dashboard"] = {"backend": result["backend"], **dashboard.measure(app)}
    result.update(measure(app))
    return result


def print_result(result):
    print(
        f"== manager pages, {result['backend']} {result['encounters']:,} contacts"
        f" (server ms, SQL statements; target <= 100 ms at 1M),"
        f" load average {result['load_average']} =="
    )
    for url, figures in result["pages"].items():
        print(f"  {url:<36} {figures['ms']:>8} ms ({figures['statements']}),"
              f" CPU {figures.get('cpu_ms')} ms")
    b = result["backlog"]
    print(
        f"  catch-up alone of {b['marks']} marks ({b['slices']} slices)  {b['catch_up_ms']:>8} ms"
        f" ({b['catch_up_statements']}), CPU {b.get('catch_up_cpu_ms')} ms"
    )
    print(
        f"  first read after {b['marks']} marks ({b['slices']} slices)  {b['first_read_ms']:>8} ms"
        f" (min {b['first_read_min_ms']}, CPU {b['first_read_cpu_ms']} ms,"
        f" {b['first_read_statements']} statements, notice shown: {b['first_read_notice']});"
        f" background catch-up done after {b['background_catch_up_ms']} ms;"
        f" next read {b['next_read_ms']} ms"
    )
    print(
        f"  contact save: {result['record_contact_statements']} statements (service + commit),"
        f" {result['post_contact_statements']} for the whole POST (target <= 8 per save)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--with-dashboard", action="store_true",
                        help="also bench/dashboard.py's figures, from the same database")
    args = parser.parse_args()
    result = run_postgresql(args.encounters, args.with_dashboard) if args.postgresql else \
        run(args.encounters, args.db, args.with_dashboard)
    if "dashboard" in result:
        from bench.run import print_reads
        print_reads({"dashboard": result["dashboard"]})
    print_result(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
