"""an action's status has one home, its dated history: plan_actions.status becomes history rows, then goes
(issue 20); a status recorded by an import or this migration has no user

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:40:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The catalogue's old words -> the history's (``delayed`` is told by late milestones now).
OLD_TO_NEW = {'planned': 'not_started', 'in_progress': 'started', 'delayed': 'started', 'done': 'done',
              'abandoned': 'abandoned'}
NEW_TO_OLD = {'not_started': 'planned', 'started': 'in_progress', 'partly_done': 'in_progress', 'done': 'done',
              'abandoned': 'abandoned'}
REASON = "Statut repris du catalogue (avant l'historique daté)"


def upgrade():
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.alter_column('recorded_by_id', existing_type=sa.Integer(), nullable=True)
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.id, a.status, p.starts_on FROM plan_actions a JOIN plan_axes x ON x.id = a.axis_id "
        "JOIN plans p ON p.id = x.plan_id "
        "WHERE NOT EXISTS (SELECT 1 FROM action_status_changes c WHERE c.action_id = a.id)")).all()
    changes = sa.table('action_status_changes', sa.column('action_id', sa.Integer), sa.column('status', sa.String),
                       sa.column('effective_on', sa.Date), sa.column('reason', sa.String),
                       sa.column('evidence', sa.String), sa.column('recorded_at', sa.DateTime))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    kept = [{'action_id': action_id, 'status': OLD_TO_NEW.get(status, 'started'),
             'effective_on': _date(starts_on) or now.date(), 'reason': REASON, 'evidence': '', 'recorded_at': now}
            for action_id, status, starts_on in rows if status != 'planned']
    if kept:
        op.bulk_insert(changes, kept)
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.drop_column('status')


def _date(value):
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def downgrade():
    """Each action's latest status back into ``plan_actions.status`` (in the old words), then the rows
    that have no user (written by an import or by this revision's upgrade) go, as 0012 required a user."""
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=30), nullable=False, server_default='planned'))
    bind = op.get_bind()
    latest = bind.execute(sa.text(
        "SELECT c.action_id, c.status FROM action_status_changes c WHERE NOT EXISTS ("
        "SELECT 1 FROM action_status_changes d WHERE d.action_id = c.action_id AND "
        "(d.effective_on > c.effective_on OR (d.effective_on = c.effective_on AND d.id > c.id)))")).all()
    for action_id, status in latest:
        bind.execute(sa.text("UPDATE plan_actions SET status = :status WHERE id = :id"),
                     {"status": NEW_TO_OLD.get(status, 'in_progress'), "id": action_id})
    bind.execute(sa.text("DELETE FROM action_status_changes WHERE recorded_by_id IS NULL"))
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.alter_column('recorded_by_id', existing_type=sa.Integer(), nullable=False)
