"""The medians' admissions (``rollup_admissions``): one row per referral with an admission, holding
the facts that would otherwise be read from its contact and its shift, a random row each of tables
of millions (issue 22 item 3): the team of the contact where it was recorded, and whether that
contact's shift is validated; with its organisation, programme, and the days a median reads
(admission, the person's first contact, proposal: day numbers), and the admission's month, by
which it is rebuilt. A median reads this table alone, through one covering index.

Fed like the other roll-ups: every write of a referral marks the months of each of its steps, a
shift's change marks those of every referral recorded in it (``rollups.dirty_keys``), and the
catch-up that rebuilds those slices calls ``refresh`` with them (``rollups.REFRESHERS``): the
(organisation, month) pairs marked are rebuilt from ``referrals``. A person's first contact is
copied on their referrals by a statement, not through their objects (``models``'
``_referrals_first_seen``): when it moves, ``_mark_moved_persons`` marks the months of that
person's admissions in the same flush. Bulk paths (imports) rewrite those copies in bulk, then
refresh months (organisation None): there, every row's first contact is read again."""
from datetime import timedelta

from sqlalchemy import (
    Index,
    and_,
    delete,
    event,
    insert,
    inspect,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Contact, Person, Referral, RollupDirty, Shift
from . import rollups
from .measures import EPOCH, epoch_days
from .rollups import add_months, month_expr, month_start


class RollupAdmission(db.Model):
    """An admitted referral's facts for the medians (derived by the catch-up, never written by
    hand): ``admitted`` is the admission day as a day number (days since 1970-01-01). No foreign
    key: a deleted referral's row goes when its months are rebuilt."""
    __tablename__ = "rollup_admissions"
    # the medians' read: a range of admission days, filtered and covered by the index alone
    __table_args__ = (Index("ix_rollup_admissions_read", "admitted", "is_validated",
                            "organisation_id", "team_id", "programme_id", "first_seen",
                            "proposed"),)
    referral_id = db.Column(db.String(36), primary_key=True)
    organisation_id = db.Column(db.Integer, nullable=False)
    team_id = db.Column(db.Integer, nullable=False)
    programme_id = db.Column(db.Integer, nullable=False)
    is_validated = db.Column(db.Boolean, nullable=False)
    admitted = db.Column(db.Integer, nullable=False)
    first_seen = db.Column(db.Integer)
    proposed = db.Column(db.Integer, nullable=False)
    admitted_month = db.Column(db.Date, nullable=False)


COLUMNS = ("referral_id", "organisation_id", "team_id", "programme_id", "is_validated", "admitted",
           "first_seen", "proposed", "admitted_month")


def _source(dialect, where):
    """SELECT of the ``COLUMNS`` of the admitted referrals matching ``where``."""
    r = Referral
    validated = Shift.status == literal_column("'validated'")
    return (select(r.id, r.organisation_id, Contact.team_id, r.programme_id, validated,
                   epoch_days(r.admitted_on), epoch_days(r.person_first_seen_on),
                   epoch_days(r.proposed_on), month_expr(r.admitted_on, dialect).label("month"))
            .select_from(r.__table__.join(Contact.__table__, Contact.id == r.contact_id)
                         .join(Shift.__table__, Shift.id == Contact.shift_id))
            .where(r.admitted_on.isnot(None), *where))


def _marked(pairs, organisation, month):
    """Rows whose (organisation, month) is a marked pair (organisation None: every one)."""
    every = sorted({m for o, m in pairs if o is None})
    some = sorted((o, m) for o, m in pairs if o is not None and m not in every)
    return or_(*([month.in_(every)] if every else []),
               *([tuple_(organisation, month).in_(some)] if some else []))


def refresh(conn, keys=None):
    """Rebuild the rows of the referrals admitted in the marked (organisation, team, month) slices
    ``keys`` (the team ignored: an organisation's month is a few rows), every row when None. Called
    under the roll-ups' lock."""
    t, dialect = RollupAdmission, conn.dialect.name
    if keys is None:
        conn.execute(delete(t))
        conn.execute(insert(t).from_select(COLUMNS, _source(dialect, [])))
        return
    pairs = {(o, month_start(m)) for o, _t, m in keys if m is not None}
    if not pairs:
        return
    if any(o is None for o, _m in pairs):  # a bulk path: first contacts may have moved anywhere
        _first_seen_again(conn)
    first, until = min(m for _o, m in pairs), add_months(max(m for _o, m in pairs), 1)
    r = Referral
    rows = conn.execute(_source(dialect, [
        r.admitted_on >= first, r.admitted_on < until,
        _marked(pairs, r.organisation_id, month_expr(r.admitted_on, dialect))])).all()
    # and any row of these referrals left in a month not marked (one admitted in a month frozen
    # by a purge, then moved): a referral has one row
    ids = [row[0] for row in rows]
    stale = [_marked(pairs, t.organisation_id, t.admitted_month)]
    for at in range(0, len(ids), 500):
        stale.append(t.referral_id.in_(ids[at:at + 500]))
    conn.execute(delete(t).where(or_(*stale)))
    if rows:
        conn.execute(insert(t), [
            {**dict(zip(COLUMNS[:8], row)), "is_validated": bool(row[4]),
             "admitted_month": month_start(EPOCH + timedelta(days=row[5]))} for row in rows])


def _first_seen_again(conn):
    """Every row's first contact read again from its referral (where it differs)."""
    t, r = RollupAdmission, Referral
    copy = select(epoch_days(r.person_first_seen_on)).where(r.id == t.referral_id) \
        .scalar_subquery()
    conn.execute(update(t).where(t.first_seen.is_distinct_from(copy)).values(first_seen=copy))


def _mark_moved_persons(session, _flush_context):
    """Mark the months of the admissions of every person whose first contact this flush moved: their
    referrals' copies were rewritten by a statement, which no roll-up listener sees."""
    moved = [p.id for p in list(session.dirty) if isinstance(p, Person) and p.id is not None
             and inspect(p).attrs.first_seen_on.history.has_changes()]
    if not moved:
        return
    r = Referral
    rows = session.connection().execute(
        select(r.organisation_id, Contact.team_id, r.admitted_on)
        .join(Contact, Contact.id == r.contact_id)
        .where(r.person_id.in_(moved), r.admitted_on.isnot(None)).distinct()).all()
    keys = sorted({(o, team, month_start(day)) for o, team, day in rows})
    if keys:
        session.connection().execute(insert(RollupDirty), [
            {"organisation_id": o, "team_id": team, "month": month} for o, team, month in keys])
        session.info[rollups.PENDING] = True


def read(filters, first, end):
    """SELECT (programme id, admission day, first-seen day, proposal day) of the admissions of the
    scope ``filters`` (organisation, team, provisional data) from day number ``first`` up to
    ``end`` (excluded), by admission day."""
    t = RollupAdmission
    where = [t.admitted >= first, t.admitted < end]
    if not filters.get("include_provisional"):
        where.append(t.is_validated.is_(True))
    if filters.get("organisation_id"):
        where.append(t.organisation_id == filters["organisation_id"])
    if filters.get("team_id"):
        where.append(t.team_id == filters["team_id"])
    return (select(t.programme_id, t.admitted, t.first_seen, t.proposed)
            .where(and_(*where)).order_by(t.admitted))


rollups.REFRESHERS.append(refresh)
if not event.contains(Session, "after_flush", _mark_moved_persons):
    event.listen(Session, "after_flush", _mark_moved_persons)
