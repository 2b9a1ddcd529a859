"""Reference lists' version: one row that every edit of a list or a sector changes, so each server
process knows, with one primary-key read, when the lists it keeps in memory are out of date.

Revision ID: 0014
Revises: 0013
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_versions")),
    )
    op.bulk_insert(table, [{"id": 1, "version": uuid.uuid4().hex}])


def downgrade():
    op.drop_table("reference_versions")
