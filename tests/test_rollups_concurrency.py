"""Roll-ups under concurrency: writers only mark slices, readers catch up, purged months stay frozen
(SQLite and PostgreSQL)."""
import threading
from datetime import date

from conftest import PATIENCE
from maintenance_helpers import log_contact, seed_history
from sqlalchemy import event, func, select

from outreach.extensions import db
from outreach.indicators.rollups import catch_up, refresh_rollups, rollup_rows
from outreach.maintenance.purge import purge_person_data
from outreach.models import Contact, Organisation, RollupDirty, RollupMonthly, Team

DAY = date(2026, 3, 12)


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _contacts_in(month):
    return db.session.execute(select(func.coalesce(func.sum(RollupMonthly.value), 0)).where(
        RollupMonthly.measure.like("contacts_%"), RollupMonthly.month == month)).scalar_one()


def _agrees_with_a_full_rebuild():
    kept = rollup_rows(db.session)  # catches up first
    refresh_rollups(db.session)
    db.session.commit()
    assert rollup_rows(db.session) == kept
    return kept


def test_a_write_only_marks_its_slices_and_a_read_catches_up(app, ctx):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        log_contact(DAY, digest="p1")
        log_contact(DAY, digest="p2", org="gaia", team="gaia_mobile", worker="worker@gaia.demo")
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    touched = [s for s in statements if "rollup_" in s]
    assert touched and all("rollup_dirty" in s for s in touched), touched
    assert _count(RollupMonthly) == 0 and _count(RollupDirty) == 2
    assert catch_up(db.session) == 2
    assert _count(RollupDirty) == 0 and _contacts_in(date(2026, 3, 1)) == 2
    assert catch_up(db.session) == 0  # nothing pending: a no-op
    _agrees_with_a_full_rebuild()


def test_a_reader_sees_its_own_uncommitted_writes(app, ctx):
    log_contact(DAY, digest="p1")
    log_contact(DAY)
    assert catch_up(db.session) == 2  # one mark per flush; inside the session's transaction
    assert _contacts_in(date(2026, 3, 1)) == 2
    db.session.commit()
    assert _count(RollupDirty) == 0


def _writer(app, barrier, errors, digest, org, team, worker, rounds):
    try:
        with app.app_context():
            for i in range(rounds):
                log_contact(DAY, digest=f"{digest}-{i % 3}", org=org, team=team, worker=worker)
                if i == 0 and barrier is not None:
                    # both transactions hold a flushed write to the same slice
                    barrier.wait(timeout=PATIENCE)
                db.session.commit()
            db.session.remove()
    except Exception as error:  # noqa: BLE001 (reported by the test)
        errors.append(repr(error))


def _reader(app, stop, errors):
    try:
        with app.app_context():
            # dashboards reloading every 20 ms: far busier than real use,
            while not stop.wait(0.02):
                # yet leaving SQLite's busy handler a chance to hand the lock over
                catch_up(db.session)
                db.session.commit()
            db.session.remove()
    except Exception as error:  # noqa: BLE001
        errors.append(repr(error))


def test_two_writers_on_one_slice_both_commit_and_catch_up_equals_a_full_rebuild(app, ctx, backend):
    """Two writers of the same team and month, while a reader keeps catching up: no write is lost,
    no unique violation, and the roll-ups then equal a full recomputation. On PostgreSQL both
    transactions first hold a flushed, uncommitted write to the slice (SQLite has one writer)."""
    rounds = 15
    barrier = threading.Barrier(2) if backend == "postgresql" else None
    stop, errors = threading.Event(), []
    args = ("aurore", "aurore_nord", "worker@aurore.demo", rounds)
    writers = [threading.Thread(target=_writer, args=(app, barrier, errors, name, *args))
               for name in ("a", "b")]
    reader = threading.Thread(target=_reader, args=(app, stop, errors))
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert not errors, errors
    db.session.expire_all()
    assert _count(Contact) == 2 * rounds
    kept = _agrees_with_a_full_rebuild()
    assert kept[0] and _contacts_in(date(2026, 3, 1)) == 2 * rounds


def test_a_purged_month_keeps_its_values_through_catch_up_and_full_rebuild(app, ctx):
    seed_history()
    old_month = date(2019, 3, 1)
    before = rollup_rows(db.session)
    old_contacts = _contacts_in(old_month)
    assert old_contacts == 6
    purge_person_data(date(2020, 1, 15))
    db.session.commit()
    assert rollup_rows(db.session) == before
    org = db.session.execute(select(Organisation.id).filter_by(code="aurore")).scalar_one()
    team = db.session.execute(select(Team.id).filter_by(code="aurore_nord")).scalar_one()
    db.session.add(RollupDirty(organisation_id=org, team_id=team, month=old_month))
    db.session.add(RollupDirty(organisation_id=org, team_id=None, month=date(2020, 1, 1)))
    db.session.commit()
    assert catch_up(db.session) == 2
    refresh_rollups(db.session)
    refresh_rollups(db.session, months=[old_month])
    db.session.commit()
    assert _contacts_in(old_month) == old_contacts
    assert rollup_rows(db.session) == before


def test_every_reader_catches_up_by_itself(app, ctx):
    from outreach.indicators import measures as m
    march, filters = date(2026, 3, 1), {"include_provisional": True}  # shifts still open
    log_contact(DAY, digest="p1")
    db.session.commit()
    assert m.run(m.MEASURES["contacts"], filters, (march, march)) == 1
    log_contact(DAY, digest="p2")
    db.session.commit()
    assert m.Evaluator(filters).value("distinct_persons", filters, (march, march)) == 2
    assert _count(RollupDirty) == 0
