"""The report card's roll-ups (issue 20): ``plan_stays``, one row of facts per referral with an
admission, an exit or a refusal, and ``plan_stay_months``, the stays with a night summed per
programme, month and event; filled here from the referrals (then kept by the roll-ups' catch-up,
``outreach.planexec.rollup``).

Revision ID: 0015 Revises: 0014"""

import datetime as dt
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

EPOCH = dt.date(1970, 1, 1)


def upgrade():
    stays = op.create_table(
        "plan_stays",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("admitted", sa.Integer(), nullable=True),
        sa.Column("stop", sa.Integer(), nullable=True),
        sa.Column("exited", sa.Integer(), nullable=True),
        sa.Column("exited_on", sa.Date(), nullable=True),
        sa.Column("exit_reason_id", sa.Integer(), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=True),
        sa.Column("refusal_reason_id", sa.Integer(), nullable=True),
        sa.Column("admitted_month", sa.Date(), nullable=True),
        sa.Column("stop_month", sa.Date(), nullable=True),
        sa.Column("last_night_month", sa.Date(), nullable=True),
        sa.Column("exited_month", sa.Date(), nullable=True),
        sa.Column("refused_month", sa.Date(), nullable=True),
        sa.Column("key_hi", sa.BigInteger(), nullable=False),
        sa.Column("key_lo", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_plan_stays")),
    )
    op.create_index(
        "ix_plan_stays_exited",
        "plan_stays",
        [
            "exited",
            "programme_id",
            "exit_reason_id",
            "admitted",
            "person_id",
            "exited_on",
            "key_hi",
            "key_lo",
            "referral_id",
        ],
    )
    op.create_index(
        "ix_plan_stays_refused",
        "plan_stays",
        ["refused", "refusal_reason_id", "programme_id", "key_hi", "key_lo"],
    )
    op.create_index(
        "ix_plan_stays_admitted",
        "plan_stays",
        ["programme_id", "admitted", "stop", "exited", "key_hi", "key_lo"],
    )
    op.create_index(
        "ix_plan_stays_stop", "plan_stays", ["programme_id", "stop", "admitted", "key_hi", "key_lo"]
    )
    months = op.create_table(
        "plan_stay_months",
        sa.Column("programme_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("part", sa.String(length=1), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.BigInteger(), nullable=False),
        sa.Column("key_hi", sa.BigInteger(), nullable=False),
        sa.Column("key_lo", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "month", "part", name=op.f("pk_plan_stay_months")),
    )
    _fill(op.get_bind(), stays, months)


def _fill(conn, stays, months):
    """The rows of today's referrals, as ``outreach.planexec.rollup.refresh`` writes them (frozen
    here)."""
    r = sa.table(
        "referrals",
        *[
            sa.column(c)
            for c in (
                "id",
                "organisation_id",
                "programme_id",
                "person_id",
                "admitted_on",
                "exited_on",
                "exit_reason_id",
                "refused_on",
                "refusal_reason_id",
            )
        ],
    )
    rows = conn.execute(
        sa.select(r).where(
            sa.or_(
                r.c.admitted_on.isnot(None), r.c.exited_on.isnot(None), r.c.refused_on.isnot(None)
            )
        )
    ).all()
    new = [_row(row) for row in rows]
    for at in range(0, len(new), 5000):
        conn.execute(stays.insert(), new[at : at + 5000])
    s = stays.c
    nights = sa.and_(s.admitted.isnot(None), sa.or_(s.stop.is_(None), s.stop > s.admitted))
    for part, month, day in (
        ("a", s.admitted_month, s.admitted),
        ("s", s.stop_month, s.stop),
        ("l", s.last_night_month, s.stop),
    ):
        conn.execute(
            months.insert().from_select(
                ["programme_id", "month", "part", "n", "days", "key_hi", "key_lo"],
                sa.select(
                    s.programme_id,
                    month,
                    sa.literal_column(f"'{part}'"),
                    sa.func.count(),
                    sa.func.sum(day),
                    sa.func.sum(s.key_hi),
                    sa.func.sum(s.key_lo),
                )
                .where(nights, month.isnot(None))
                .group_by(s.programme_id, month),
            )
        )


def _row(r):
    admitted, exited, refused = (_date(r.admitted_on), _date(r.exited_on), _date(r.refused_on))
    stop = None if admitted is None or exited is None else max(admitted, exited)
    key = (
        int.from_bytes(hashlib.blake2b(f"referral|{r.id}".encode(), digest_size=8).digest(), "big")
        | 1
    )
    last_night = stop - dt.timedelta(days=1) if stop is not None and stop > admitted else None
    return {
        "referral_id": r.id,
        "organisation_id": r.organisation_id,
        "programme_id": r.programme_id,
        "person_id": r.person_id,
        "admitted": _number(admitted),
        "stop": _number(stop),
        "exited": _number(exited),
        "exited_on": exited,
        "exit_reason_id": r.exit_reason_id,
        "refused": _number(refused),
        "refusal_reason_id": r.refusal_reason_id,
        "admitted_month": _month(admitted),
        "stop_month": _month(stop),
        "last_night_month": _month(last_night),
        "exited_month": _month(exited),
        "refused_month": _month(refused),
        "key_hi": key >> 32,
        "key_lo": key & 0xFFFFFFFF,
    }


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _number(day):
    return None if day is None else (day - EPOCH).days


def _month(day):
    return None if day is None else day.replace(day=1)


def downgrade():
    op.drop_table("plan_stay_months")
    op.drop_index("ix_plan_stays_stop", table_name="plan_stays")
    op.drop_index("ix_plan_stays_admitted", table_name="plan_stays")
    op.drop_index("ix_plan_stays_refused", table_name="plan_stays")
    op.drop_index("ix_plan_stays_exited", table_name="plan_stays")
    op.drop_table("plan_stays")
