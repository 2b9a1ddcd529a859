"""Covering indexes for the manager pages' reads at 1M contacts (issue 22 item 3): the dashboard's
window of ``rollup_org_monthly`` read from the index alone (no table row per cell); shifts by day
(sign-off states, shifts with partners: a range instead of a scan of every shift); the admissions'
join to their shift's state without reading the shift's row.

Revision ID: 0016 Revises: 0015"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_rollup_org_monthly_read", "rollup_org_monthly",
     ["is_validated", "month", "measure", "item_id", "organisation_id", "value"]),
    ("ix_shifts_on_status", "shifts", ["shift_on", "status", "organisation_id", "id"]),
    ("ix_shifts_id_status", "shifts", ["id", "status"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
