"""purge, rotate-pseudonym-key, backup and restore, on SQLite and PostgreSQL."""
import pytest
from maintenance_helpers import log_contact, seed_history
from sqlalchemy import func, select, text

from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators.rollups import rollup_rows
from outreach.maintenance.keys import pseudonym_code
from outreach.models import AuditEvent, Contact, Person, Referral, RollupMonthly

NEW_KEY = "n" * 40


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _audits(action):
    return db.session.execute(select(AuditEvent).filter_by(action=action)).scalars().all()


def _contacts_sum():
    return db.session.execute(select(func.sum(RollupMonthly.value)).where(
        RollupMonthly.measure.like("contacts_%"))).scalar_one()


def test_purge_dry_run_changes_nothing(app, runner, ctx):
    seed_history()
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would remove 6 contacts, 1 referrals, 4 persons" in result.output
    db.session.expire_all()
    assert _count(Contact) == 8 and _count(Person) == 6


def _rollup_tables():
    """Every roll-up table, whatever the indicators capability adds (names start with "rollup")."""
    tables = [t.name for t in db.metadata.sorted_tables if t.name.startswith("rollup")]
    with db.engine.connect() as conn:
        return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                for t in tables}


def test_purge_removes_old_person_data_and_keeps_indicators(app, runner, ctx):
    seed_history()
    before = rollup_rows(db.session)
    all_before = _rollup_tables()
    contacts_before = _contacts_sum()
    assert before[0] and before[1] and contacts_before >= 8
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _count(Contact) == 2 and _count(Referral) == 0
    assert sorted(p.code for p in db.session.execute(select(Person)).scalars()) == sorted(
        pseudonym_code(d, "test-pseudonym-key") for d in ("both", "new-1"))
    assert rollup_rows(db.session) == before
    assert _rollup_tables() == all_before
    assert _contacts_sum() == contacts_before
    [event] = _audits("purge")
    assert event.details["contacts"] == 6 and event.details["persons"] == 4


def test_purge_months_option(app, runner, ctx):
    seed_history()
    result = runner.invoke(args=["purge", "--months", "1200"])
    assert "0 contacts" in result.output
    assert runner.invoke(args=["purge", "--months", "0"]).exit_code != 0


def _distinct_persons():
    return db.session.execute(select(func.count(func.distinct(Contact.person_id)))).scalar_one()


def test_rotation_keeps_persons_and_matches_after(app, runner, ctx, monkeypatch):
    seed_history()
    distinct, codes = _distinct_persons(), {p.id: p.code
                                            for p in db.session.execute(select(Person)).scalars()}
    monkeypatch.setenv("OLD_KEY", "test-pseudonym-key")
    monkeypatch.setenv("NEW_KEY", NEW_KEY)
    result = runner.invoke(
        args=["rotate-pseudonym-key", "--old-key-env", "OLD_KEY", "--new-key-env", "NEW_KEY"])
    assert result.exit_code == 0, result.output
    assert NEW_KEY not in result.output and "test-pseudonym-key" not in result.output
    db.session.expire_all()
    rotated = {p.id: p.code for p in db.session.execute(select(Person)).scalars()}
    assert rotated.keys() == codes.keys() and not set(rotated.values()) & set(codes.values())
    assert _distinct_persons() == distinct
    chain = "test-pseudonym-key," + NEW_KEY
    app.config["PSEUDONYM_KEY"] = chain
    log_contact(log_date(), digest="both", key=chain)
    db.session.commit()
    assert _count(Person) == len(codes) and _distinct_persons() == distinct
    [event] = _audits("pseudonym_key_rotated")
    assert event.details["persons"] == len(codes) and NEW_KEY not in str(event.details)


def log_date():
    return local_today()


def test_rotation_refuses_a_wrong_old_key(app, runner, ctx, monkeypatch):
    seed_history()
    monkeypatch.setenv("OLD_KEY", "not-the-key")
    monkeypatch.setenv("NEW_KEY", NEW_KEY)
    result = runner.invoke(
        args=["rotate-pseudonym-key", "--old-key-env", "OLD_KEY", "--new-key-env", "NEW_KEY"])
    assert result.exit_code != 0 and "old key" in result.output
    db.session.expire_all()
    assert (pseudonym_code("both", "test-pseudonym-key") in {
        p.code for p in db.session.execute(select(Person)).scalars()})
    assert not _audits("pseudonym_key_rotated")


def _snapshot():
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.connect() as conn:
        return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                for t in tables}


def test_backup_then_restore_gives_identical_tables(app, runner, ctx, tmp_path):
    seed_history()
    db.session.remove()
    before = _snapshot()
    path = str(tmp_path / "outreach.backup")
    result = runner.invoke(args=["backup", path])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["purge"]).exit_code == 0
    db.session.remove()
    assert _snapshot() != before
    result = runner.invoke(args=["restore", path, "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _snapshot() == before


def test_restore_of_a_missing_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path / "none"), "--yes"])
    assert result.exit_code != 0 and "no backup file" in result.output


def test_rotation_updates_development_secrets(app, runner, ctx, monkeypatch):
    import json
    import os
    path = os.path.join(app.instance_path, "secrets.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"SECRET_KEY": "x", "PSEUDONYM_KEY": "test-pseudonym-key"}, fh)
    monkeypatch.delenv("OUTREACH_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("OLD_KEY", "test-pseudonym-key")
    monkeypatch.setenv("NEW_KEY", NEW_KEY)
    result = runner.invoke(
        args=["rotate-pseudonym-key", "--old-key-env", "OLD_KEY", "--new-key-env", "NEW_KEY"])
    assert result.exit_code == 0 and "secrets.json" in result.output
    with open(path, encoding="utf-8") as fh:
        assert json.load(fh)["PSEUDONYM_KEY"] == "test-pseudonym-key," + NEW_KEY


def test_audit_guard_refuses_raw_updates_and_deletes(app, runner, ctx):
    from sqlalchemy.exc import DBAPIError

    from outreach import audit
    audit.record("export", details={"n": 1})
    db.session.commit()
    assert runner.invoke(args=["guard-audit-log"]).exit_code == 0
    assert runner.invoke(args=["guard-audit-log"]).exit_code == 0  # idempotent
    try:
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (occurred_at, action) VALUES "
                              "(CURRENT_TIMESTAMP, 'ok')"))
    finally:
        assert runner.invoke(args=["guard-audit-log", "--remove"]).exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = NULL WHERE action = 'ok'"))
