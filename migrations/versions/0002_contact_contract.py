"""contact contract: CHECK constraints on the shape of a contact

A known contact has a person and counts one person; an anonymous passage or a refusal has no
person; people_count stays within 1..500 (outreach/contract.py, the rules every path applies).

Rows the old corrections could leave behind are repaired first, and their roll-up slices marked
for recomputation: a contact corrected from known to anonymous or refusal loses the person it kept
(and so do its referrals);
a known contact counts 1 person; a known contact without a person (none is expected) becomes an
anonymous passage. The SQL below is a frozen copy of ``contract.CHECKS`` as of this revision.

On SQLite the table is rebuilt (batch mode): migrations/env.py switches foreign keys off for the whole run,
otherwise dropping the old table would cascade into the contact's material, orientations and referrals.

Revision ID: 0002
Revises: 0001
"""
import datetime

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CHECKS = {
    "known_one_person": "kind <> 'known' OR (person_id IS NOT NULL AND people_count = 1)",
    "unknown_no_person": "kind = 'known' OR person_id IS NULL",
    "people_count_range": "people_count BETWEEN 1 AND 500",
}
IMPOSSIBLE = ("(kind <> 'known' AND person_id IS NOT NULL) OR (kind = 'known' AND person_id IS NULL)"
              " OR (kind = 'known' AND people_count <> 1)")
REPAIRS = (
    "UPDATE contacts SET person_id = NULL, is_first_contact = false WHERE kind <> 'known' AND person_id IS NOT NULL",
    "UPDATE contacts SET kind = 'anonymous', is_first_contact = false WHERE kind = 'known' AND person_id IS NULL",
    "UPDATE contacts SET people_count = 1 WHERE kind = 'known' AND people_count <> 1",
    ("UPDATE referrals SET person_id = NULL, person_first_seen_on = NULL WHERE person_id IS NOT NULL"
     " AND contact_id IN (SELECT id FROM contacts WHERE kind <> 'known')"),
)


def _repair(bind):
    """Fix the impossible rows and mark their (organisation, team, month) roll-up slices dirty."""
    slices = {(org, team, _month(day)) for org, team, day in bind.execute(sa.text(
            f"SELECT DISTINCT organisation_id, team_id, occurred_on FROM contacts WHERE {IMPOSSIBLE}"))}
    for statement in REPAIRS:
        bind.execute(sa.text(statement))
    if slices:
        dirty = sa.table("rollup_dirty", sa.column("organisation_id"), sa.column("team_id"),
                         sa.column("month", sa.Date))
        bind.execute(dirty.insert(), [{"organisation_id": o, "team_id": t, "month": m} for o, t, m in sorted(slices)])


def _month(day):
    """The first day of the month of ``day`` (a date, or SQLite's ISO text)."""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day[:10])
    return day.replace(day=1)


def upgrade():
    _repair(op.get_bind())
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_contacts_people_count_positive'), type_='check')
        for name, text in CHECKS.items():
            batch_op.create_check_constraint(batch_op.f(f'ck_contacts_{name}'), text)


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        for name in CHECKS:
            batch_op.drop_constraint(batch_op.f(f'ck_contacts_{name}'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_contacts_people_count_positive'), 'people_count >= 1')
