"""Roll-up catch-ups at 1M contacts (issue 22 item 3): contacts by team and day, so that rebuilding
a marked team-month reads that team's contacts instead of its whole organisation's month; and the
time of each roll-up mark, so that a page read before a night's backlog is caught up can say how
recent its figures are.

Revision ID: 0017 Revises: 0016"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_contacts_team_on", "contacts", ["team_id", "occurred_on"])
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.add_column(sa.Column("marked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("rollup_dirty") as batch:
        batch.drop_column("marked_at")
    op.drop_index("ix_contacts_team_on", table_name="contacts")
