"""The medians' admissions (issue 22 item 3): ``rollup_admissions``, one row per admitted referral
with the team of its contact, its shift's state and its days (admission, the person's first
contact, proposal), so that the dashboard's and the read API's
medians read no contact (a random row of a table of millions each) and no shift; filled here from
the referrals (then kept by the roll-ups' catch-up, ``outreach.indicators.admissions``).

Revision ID: 0018 Revises: 0017"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

EPOCH = dt.date(1970, 1, 1)


def upgrade():
    table = op.create_table(
        "rollup_admissions",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("is_validated", sa.Boolean(), nullable=False),
        sa.Column("admitted", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.Integer(), nullable=True),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("admitted_month", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_rollup_admissions")),
    )
    op.create_index(
        "ix_rollup_admissions_read",
        "rollup_admissions",
        ["admitted", "is_validated", "organisation_id", "team_id", "programme_id", "first_seen",
         "proposed"],
    )
    _fill(op.get_bind(), table)


def _fill(conn, table):
    """The rows of today's admitted referrals, as ``outreach.indicators.admissions.refresh`` writes
    them (frozen here)."""
    r = sa.table("referrals", *[sa.column(c) for c in (
        "id", "contact_id", "organisation_id", "programme_id", "admitted_on",
        "person_first_seen_on", "proposed_on")])
    c = sa.table("contacts", sa.column("id"), sa.column("team_id"), sa.column("shift_id"))
    s = sa.table("shifts", sa.column("id"), sa.column("status"))
    rows = conn.execute(
        sa.select(r.c.id, r.c.organisation_id, c.c.team_id, r.c.programme_id, s.c.status,
                  r.c.admitted_on, r.c.person_first_seen_on, r.c.proposed_on)
        .select_from(r.join(c, c.c.id == r.c.contact_id).join(s, s.c.id == c.c.shift_id))
        .where(r.c.admitted_on.isnot(None))
    ).all()
    new = []
    for rid, organisation, team, programme, status, admitted, first_seen, proposed in rows:
        day = _date(admitted)
        new.append({"referral_id": rid, "organisation_id": organisation, "team_id": team,
                    "programme_id": programme, "is_validated": status == "validated",
                    "admitted": _number(day), "first_seen": _number(_date(first_seen)),
                    "proposed": _number(_date(proposed)), "admitted_month": day.replace(day=1)})
    for at in range(0, len(new), 5000):
        conn.execute(table.insert(), new[at:at + 5000])


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _number(day):
    return None if day is None else (day - EPOCH).days


def downgrade():
    op.drop_index("ix_rollup_admissions_read", table_name="rollup_admissions")
    op.drop_table("rollup_admissions")
