"""``flask catch-up-rollups`` (run from a timer) leaves a reader no backlog of marks: the
dashboard's next read finds the roll-ups current and catches nothing up itself."""

from export_helpers import seed_contacts
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.indicators import rollups
from outreach.models import RollupDirty


def test_the_timer_command_catches_every_committed_mark_up(app):
    seed_contacts(app)  # an import: its own refresh, then a saved contact leaves a mark
    with app.app_context():
        db.session.add(RollupDirty(organisation_id=1, team_id=None, month=seed_month(app)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["catch-up-rollups"])
    assert result.exit_code == 0, result.output
    assert "1 roll-up marks caught up" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(RollupDirty)).scalar() == 0
        assert rollups.catch_up(db.session) == 0


def seed_month(app):
    with app.app_context():
        return db.session.execute(select(func.max(rollups.RollupMonthly.month))).scalar()
