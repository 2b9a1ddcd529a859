"""Roll-ups: monthly sums and exact person-month rows, derived from the raw tables.

On write, an ``after_flush`` listener only marks the (organisation, team, month) slices
touched by Contact, ContactMaterial, Orientation, Referral and Shift changes: one
``rollup_dirty`` row each, inserted in the writer's transaction so the mark commits
with the data. No roll-up table is touched on write (cheap, and no two writers ever
rebuild the same slice).

Readers call ``catch_up`` first: one refresher at a time (PostgreSQL advisory lock;
SQLite's write lock) claims the committed marks (DELETE ... RETURNING: exactly those it
reads), rebuilds all their slices together (one INSERT ... SELECT per roll-up measure
joined to a temporary table of the slices: a night's backlog of any number of team-months
costs a few dozen statements) and commits. A contact committed meanwhile keeps its own
mark for the next catch-up. Bulk paths (synthetic history, imports) call ``refresh_rollups``.

Months before the last purge cut-off are frozen: their raw rows are gone, so neither a
catch-up nor a full rebuild recomputes them (that would wipe the historical values).
"""
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache
from itertools import groupby

from flask import after_this_request, current_app, g, has_request_context
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    exists,
    extract,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from ..models import (
    AuditEvent,
    Contact,
    ContactMaterial,
    Organisation,
    Orientation,
    Person,
    Referral,
    RefItem,
    RollupDirty,
    RollupMonthly,
    RollupMultiCount,
    RollupOrgMonthly,
    RollupPersonMonth,
    RollupPersonSpan,
    RollupSpanCount,
    Shift,
)
from ..reference.defaults import NO_PLACE_REFUSAL, STABLE_HOUSING_EXIT
from ..site_models import SiteObservation

ROLLUP_COLUMNS = ["month", "organisation_id", "team_id", "sector_id", "measure", "item_id",
                  "is_validated", "value"]
PERSON_COLUMNS = ["month", "organisation_id", "team_id", "person_id", "is_validated", "contacts",
                  "first_contacts"]
_state = {"suspended": 0}
# Other roll-ups fed by the same marks (the plan's report card: ``planexec.rollup``): ``fn(conn,
# keys)`` after the slices ``keys`` (organisation, team or None, month) are rebuilt; ``keys`` None:
# everything.
REFRESHERS = []
TRUE = true()


# --- months -----------------------------------------------------------------------

def month_start(day):
    return date(day.year, day.month, 1)


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_expr(column, dialect):
    if dialect == "postgresql":
        return cast(func.date_trunc(literal_column("'month'"), column), Date)
    return func.date(column, literal_column("'start of month'"))


# --- the source statements (one per roll-up measure) -----------------------------

def _validated():
    return Shift.status == literal_column("'validated'")


def _ref_id(kind, code):
    return select(RefItem.id).where(RefItem.kind == kind, RefItem.code == code).scalar_subquery()


def _grouped(measure, value, month, org, team, sector, item, validated, source, where):
    zero = literal_column("0")
    sector = zero if sector is None else sector
    item = zero if item is None else item
    groups = [month, org, team] + [c for c in (validated, sector, item) if c is not zero
                                   and c is not TRUE]
    columns = [month, org, team, sector, literal_column(f"'{measure}'"), item, validated, value]
    return (select(*[c.label(name) for c, name in zip(columns, ROLLUP_COLUMNS)])
            .select_from(source).where(*where).group_by(*groups))


def _contact_sources(dialect, window):
    """Contacts by kind, passages and contacts with a code: one GROUP BY over the contacts (a
    column per measure, in a CTE), then a row per measure present in the group, as a GROUP BY per
    measure would give (no row where the measure had no contact): the contacts and their shifts
    are read once, not five times."""
    month = month_expr(Contact.occurred_on, dialect)
    source = Contact.__table__.join(Shift.__table__, Shift.id == Contact.shift_id)
    where = window(Contact.organisation_id, Contact.team_id, Contact.occurred_on)
    sector = func.coalesce(Contact.sector_id, 0)
    validated = _validated()
    anonymous = Contact.kind == "anonymous"

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    groups = (select(month.label("month"), Contact.organisation_id.label("organisation_id"),
                     Contact.team_id.label("team_id"), sector.label("sector_id"),
                     validated.label("is_validated"),
                     count_if(Contact.kind == "known").label("known"),
                     count_if(anonymous).label("anonymous"),
                     count_if(Contact.kind == "refusal").label("refusal"),
                     func.sum(case((anonymous, Contact.people_count))).label("passages"),
                     count_if(Contact.person_id.isnot(None)).label("with_code"))
              .select_from(source).where(*where)
              .group_by(month, Contact.organisation_id, Contact.team_id, validated, sector)
              .cte("contact_groups"))
    c = groups.c
    # (measure, value, how many contacts it counts: a row only when > 0)
    measures = [("contacts_known", c.known, c.known),
                ("contacts_anonymous", c.anonymous, c.anonymous),
                ("contacts_refusal", c.refusal, c.refusal),
                ("passages", c.passages, c.anonymous),
                ("with_code", c.with_code, c.with_code)]
    return [union_all(*[
        select(c.month, c.organisation_id, c.team_id, c.sector_id, literal_column(f"'{measure}'"),
               literal_column("0"), c.is_validated, value).where(present > 0)
        for measure, value, present in measures])]


def _item_sources(dialect, window):
    month = month_expr(Contact.occurred_on, dialect)
    where = window(Contact.organisation_id, Contact.team_id, Contact.occurred_on)
    keys = {"month": month, "org": Contact.organisation_id, "team": Contact.team_id,
            "validated": _validated(), "sector": None}
    material = ContactMaterial.__table__.join(Contact.__table__).join(Shift.__table__,
                                                                      Shift.id == Contact.shift_id)
    orient = Orientation.__table__.join(Contact.__table__).join(Shift.__table__,
                                                                Shift.id == Contact.shift_id)
    return [
        _grouped("material", func.sum(ContactMaterial.quantity), item=ContactMaterial.material_id,
                 source=material, where=where, **keys),
        _grouped("orientations", func.count(), item=Orientation.destination_id, source=orient,
                 where=where, **keys),
        _grouped("orientations_accompanied", func.count(), item=Orientation.destination_id,
                 source=orient, where=where + [Orientation.is_accompanied.is_(True)], **keys),
    ]


REFERRAL_STEPS = [
    ("referrals_proposed", "proposed_on", None),
    ("referrals_accepted", "accepted_on", None),
    ("referrals_refused", "refused_on", None),
    ("refusals_no_place", "refused_on", ("refusal_reason_id", "refusal_reason", NO_PLACE_REFUSAL)),
    ("admissions", "admitted_on", None),
    ("exits", "exited_on", None),
    ("exits_stable", "exited_on", ("exit_reason_id", "exit_reason", STABLE_HOUSING_EXIT)),
]


def _referral_sources(dialect, window):
    """Referral steps count in the month of their own date, and follow the state of the shift where
    the referral was recorded (the contact's shift), as every other figure: validated figures count
    the steps of referrals made in validated shifts only."""
    source = (Referral.__table__.join(Contact.__table__, Contact.id == Referral.contact_id)
              .join(Shift.__table__, Shift.id == Contact.shift_id))
    stmts = []
    for measure, column_name, reason in REFERRAL_STEPS:
        column = getattr(Referral, column_name)
        where = window(Referral.organisation_id, Contact.team_id, column) + [column.isnot(None)]
        if reason:
            where.append(getattr(Referral, reason[0]) == _ref_id(reason[1], reason[2]))
        stmts.append(
            _grouped(measure, func.count(), month_expr(column, dialect), Referral.organisation_id,
                     Contact.team_id, None, Referral.programme_id, _validated(), source, where))
    return stmts


def _minutes(dialect):
    if dialect == "postgresql":
        return extract("epoch", Shift.ended_at - Shift.started_at) / 60
    return (func.julianday(Shift.ended_at) - func.julianday(Shift.started_at)) * 1440


NIGHT_FROM, NIGHT_UNTIL = 19, 5  # a night shift starts from 19:00 to 04:59, Europe/Paris time


def paris_hour(dialect, column):
    """Hour (0-23) in Europe/Paris of a naive UTC timestamp column.

    PostgreSQL converts with its time zone database; SQLite has none, so the EU rule is written out:
    summer time (UTC+2) from the last Sunday of March to the last Sunday of October, 01:00 UTC
    both."""
    if dialect == "postgresql":
        return extract("hour", func.timezone(literal_column("'Europe/Paris'"),
                                             func.timezone(literal_column("'UTC'"), column)))
    year = func.strftime("%Y", column)
    summer_from = func.datetime(year.concat("-04-01"), "weekday 0", "-7 days", "+1 hours")
    summer_until = func.datetime(year.concat("-11-01"), "weekday 0", "-7 days", "+1 hours")
    utc = func.datetime(column)
    offset = case((and_(utc >= summer_from, utc < summer_until), "+2 hours"), else_="+1 hours")
    return cast(func.strftime("%H", column, offset), Integer)


def _shift_sources(dialect, window):
    """Night shift: started from 19:00 to 04:59, Europe/Paris time (``NIGHT_FROM``,
    ``NIGHT_UNTIL``)."""
    keys = {"month": month_expr(Shift.shift_on, dialect), "org": Shift.organisation_id,
            "team": Shift.team_id,
                "validated": _validated(), "sector": None, "item": None, "source": Shift.__table__}
    where = window(Shift.organisation_id, Shift.team_id, Shift.shift_on)
    hour = paris_hour(dialect, Shift.started_at)
    minutes = cast(func.round(func.sum(Shift.staff_count * _minutes(dialect))), Integer)
    in_48h = Shift.validated_at <= Shift.ended_at + timedelta(hours=48)
    if dialect == "sqlite":
        in_48h = func.julianday(Shift.validated_at) - func.julianday(Shift.ended_at) <= 2
    return [
        _grouped("shifts", func.count(), where=where, **keys),
        _grouped("night_shifts", func.count(),
                 where=where + [or_(hour >= NIGHT_FROM, hour < NIGHT_UNTIL)], **keys),
        _grouped("staff_minutes", minutes, where=where + [Shift.ended_at.isnot(None)], **keys),
        _grouped("shifts_validated_48h", func.count(),
                 where=where + [Shift.validated_at.isnot(None), in_48h], **keys),
    ]


def _person_source(dialect, window):
    month = month_expr(Contact.occurred_on, dialect)
    validated = _validated()
    # as flagged when recorded:
    first = func.sum(case((Contact.is_first_contact.is_(True), 1), else_=0))
    # no figure reads it (the order of recording); new persons come from the spans, in time order
    source = Contact.__table__.join(Shift.__table__, Shift.id == Contact.shift_id)
    where = window(Contact.organisation_id, Contact.team_id,
                   Contact.occurred_on) + [Contact.person_id.isnot(None)]
    return (select(month, Contact.organisation_id, Contact.team_id, Contact.person_id, validated,
                   func.count(), first)
            .select_from(source).where(*where)
            .group_by(month, Contact.organisation_id, Contact.team_id, Contact.person_id,
                      validated))


# --- site observations (issue 21): visits, people seen and used material picked up, per site (the
# item) ---

def _site_sources(dialect, window):
    o = SiteObservation
    keys = {"month": month_expr(o.observed_on, dialect), "org": o.organisation_id,
            "team": o.team_id, "validated": _validated(), "sector": None, "item": o.site_id,
            "source": o.__table__.join(Shift.__table__, Shift.id == o.shift_id)}
    where = window(o.organisation_id, o.team_id, o.observed_on)
    return [_grouped("site_visits", func.count(), where=where, **keys),
            _grouped("site_people_seen", func.sum(o.people_seen), where=where, **keys),
            _grouped("site_used_material", func.sum(o.syringes_collected + o.pipes_collected),
                     where=where, **keys)]


def _site_keys(conn, obj):
    """Slices of an observation (its current and previous values), or of a shift's observations."""
    if isinstance(obj, SiteObservation):
        return {(o, t, month_start(d)) for o in _values(obj, "organisation_id")
                for t in _values(obj, "team_id") for d in _values(obj, "observed_on") if d}
    rows = conn.execute(select(SiteObservation.organisation_id, SiteObservation.team_id,
                               SiteObservation.observed_on)
                        .where(SiteObservation.shift_id == obj.id).distinct())
    return {(r[0], r[1], month_start(r[2])) for r in rows}


def source_statements(dialect, window):
    """Every SELECT that rebuilds ``rollup_monthly`` for ``window`` (also used by the bench's direct
    path)."""
    return (_contact_sources(dialect, window) + _item_sources(dialect, window)
            + _referral_sources(dialect, window) + _shift_sources(dialect, window)
            + _site_sources(dialect, window))


# --- windows ----------------------------------------------------------------------

def all_window(org, team, day):
    return []


def range_window(start, end):
    """Months [start, end) for every organisation. Naming the organisations lets SQLite walk the
    (organisation, date) indexes instead of scanning every contact for each month refreshed."""
    organisations = select(Organisation.id).scalar_subquery()
    return lambda org, team, day: [org.in_(organisations), day >= start, day < end]


# --- refresh ----------------------------------------------------------------------

def _rebuild(conn, window, delete_where, full=False):
    """Rebuild one slice of the team-level roll-ups, then the org-level sums and the person spans it
    touches."""
    dialect = conn.dialect.name
    before = None if full else _slice_persons(conn, delete_where)
    conn.execute(delete(RollupMonthly).where(*delete_where(RollupMonthly)))
    conn.execute(delete(RollupPersonMonth).where(*delete_where(RollupPersonMonth)))
    for stmt in source_statements(dialect, window):
        conn.execute(insert(RollupMonthly).from_select(ROLLUP_COLUMNS, stmt))
    conn.execute(
        insert(RollupPersonMonth).from_select(PERSON_COLUMNS, _person_source(dialect, window)))
    after = None if full else _slice_persons(conn, delete_where)
    return None if full else {row[0] for row in before ^ after}  # persons whose rows changed


def _slice_persons(conn, delete_where):
    t = RollupPersonMonth
    return set(
        conn.execute(select(t.person_id, t.month, t.organisation_id, t.team_id, t.is_validated,
                            t.first_contacts).where(*delete_where(t))).all())


def _rebuild_org(conn, where):
    """rollup_org_monthly = rollup_monthly summed over teams and sectors, for the rows matching
    ``where``."""
    t = RollupMonthly
    conn.execute(delete(RollupOrgMonthly).where(*where(RollupOrgMonthly)))
    cols = [t.month, t.organisation_id, t.measure, t.item_id, t.is_validated]
    conn.execute(insert(RollupOrgMonthly).from_select(
        ["month", "organisation_id", "measure", "item_id", "is_validated", "value"],
        select(*cols, func.sum(t.value)).where(*where(t)).group_by(*cols)))


SPAN_COLUMNS = ["scope_id", "mode", "person_id", "month", "prev_month", "first_contacts"]


def _span_select(per_org, mode, person_ids):
    """Organisation-scope spans. ``first_contacts`` is 1 on the month of the person's first contact
    in time, all organisations together (the earliest month of the person in this mode), 0
    elsewhere."""
    t = RollupPersonMonth
    scope = t.organisation_id if per_org else literal_column("0")
    where = ([t.is_validated.is_(True)] if mode == 0 else []) + (
        [t.person_id.in_(person_ids)] if person_ids is not None else [])
    keys = ([t.organisation_id] if per_org else []) + [t.person_id, t.month]
    first_month = func.min(t.month).over(partition_by=t.person_id)
    inner = (select(scope.label("scope_id"), t.person_id, t.month, first_month.label("first_month"))
             .where(*where).group_by(*keys).subquery())
    prev = func.lag(inner.c.month).over(partition_by=[inner.c.scope_id, inner.c.person_id],
                                        order_by=inner.c.month)
    first = case((inner.c.month == inner.c.first_month, 1), else_=0)
    return select(inner.c.scope_id, literal_column(str(mode)), inner.c.person_id, inner.c.month,
                  prev, first)


def _plan_spans(conn, mode, person_ids):
    """Plan-scope spans computed in Python: previous and next month, and ``multi_from``."""
    t = RollupPersonMonth
    where = ([t.is_validated.is_(True)] if mode == 0 else []) + (
        [t.person_id.in_(person_ids)] if person_ids is not None else [])
    rows = conn.execute(select(t.person_id, t.month, t.organisation_id).where(*where)
                        .order_by(t.person_id, t.month))
    out = []
    for person_id, group in groupby(rows, key=lambda r: r[0]):
        out.extend(_person_spans(person_id, mode, group))
        if len(out) >= 20000:
            conn.execute(insert(RollupPersonSpan), out)
            out = []
    if out:
        conn.execute(insert(RollupPersonSpan), out)


def _person_spans(person_id, mode, rows):
    """Plan-scope spans of one person; ``first_contacts`` is 1 on the person's first month (first
    contact in time, whatever the order in which contacts were recorded), 0 elsewhere."""
    months = {}
    for _p, month, org in rows:
        months.setdefault(month, set()).add(org)
    ordered = sorted(months)
    last_by_org, running, out = {}, None, []
    for i, month in enumerate(ordered):
        orgs = months[month]
        evidence = month if len(orgs) > 1 else max(
            (m for o, m in last_by_org.items() if o not in orgs), default=None)
        if evidence is not None and (running is None or evidence > running):
            running = evidence
        last_by_org.update(dict.fromkeys(orgs, month))
        out.append({"scope_id": 0, "mode": mode, "person_id": person_id, "month": month,
                    "prev_month": ordered[i - 1] if i else None,
                    "next_month": ordered[i + 1] if i + 1 < len(ordered) else None,
                    "first_contacts": 0 if i else 1, "multi_from": running})
    return out


# An import touching more than this share of all persons (and at least FULL_SPANS_MIN of them)
# rebuilds everyone's spans in one pass, which beats chunks of ids; live catch-ups touch a few
# persons.
FULL_SPANS_SHARE, FULL_SPANS_MIN = 0.2, 1000


def _rebuild_spans(conn, person_ids=None):
    """Recompute the spans of ``person_ids`` (every person when None), plan-wide and per
    organisation, then the span counts of every (scope, mode, month) they touch."""
    if person_ids is not None and not person_ids:
        return
    # catch-ups on reads stop here: no count
    if (person_ids is not None and len(person_ids) > FULL_SPANS_MIN
            and len(person_ids) > FULL_SPANS_SHARE * _persons_count(conn)):
        person_ids = None
    chunks = [None] if person_ids is None else [sorted(person_ids)[i:i + 500]
                                                for i in range(0, len(person_ids), 500)]
    touched = set()
    for chunk in chunks:
        where = [] if chunk is None else [RollupPersonSpan.person_id.in_(chunk)]
        if chunk is not None:
            touched |= _span_keys(conn, where)
        conn.execute(delete(RollupPersonSpan).where(*where))
        for mode in (0, 1):
            _plan_spans(conn, mode, chunk)
            conn.execute(
                insert(RollupPersonSpan).from_select(SPAN_COLUMNS, _span_select(True, mode, chunk)))
        if chunk is not None:
            touched |= _span_keys(conn, where)
    if person_ids is None:
        _rebuild_counts(conn, None, None, None)
        return
    by_scope = {}
    for scope, mode, month in touched:
        by_scope.setdefault((scope, mode), set()).add(month)
    for (scope, mode), months in sorted(by_scope.items()):
        _rebuild_counts(conn, scope, mode, sorted(months))


def _persons_count(conn):
    return conn.execute(select(func.count()).select_from(Person)).scalar()


def _span_keys(conn, where):
    t = RollupPersonSpan
    return set(conn.execute(select(t.scope_id, t.mode, t.month).where(*where).distinct()).all())


NO_MONTH = date(1900, 1, 1)  # prev_month of a first span, multi_from of none (before every month)
LAST_MONTH = date(9999, 12, 1)  # next_month of a last span (after every month)


def _rebuild_counts(conn, scope, mode, months):
    """``rollup_span_counts`` (and, plan-wide, ``rollup_multi_counts``) of one scope, mode and
    months (read through the spans' scan index); everything when ``scope`` is None."""
    t, c, u = RollupPersonSpan, RollupSpanCount, RollupMultiCount
    if scope is None:
        where, count_where, multi_where = [], [], []
    else:
        where = [t.scope_id == scope, t.mode == mode, t.month.in_(months)]
        count_where = [c.scope_id == scope, c.mode == mode, c.month.in_(months)]
        multi_where = [u.mode == mode, u.month.in_(months)]
    conn.execute(delete(c).where(*count_where))
    prev = func.coalesce(t.prev_month, NO_MONTH)
    conn.execute(insert(c).from_select(
        ["scope_id", "mode", "month", "prev_month", "persons", "first_contacts"],
        select(t.scope_id, t.mode, t.month, prev, func.count(), func.sum(t.first_contacts))
        .where(*where).group_by(t.scope_id, t.mode, t.month, prev)))
    if scope not in (None, 0):
        return
    conn.execute(delete(u).where(*multi_where))
    following = func.coalesce(t.next_month, LAST_MONTH)
    conn.execute(insert(u).from_select(
        ["mode", "month", "next_month", "multi_from", "persons"],
        select(t.mode, t.month, following, t.multi_from, func.count())
        .where(*where, t.scope_id == 0, t.multi_from.isnot(None))
        .group_by(t.mode, t.month, following, t.multi_from)))


# The slices of one catch-up, in a temporary table of the refresher's connection (emptied before
# use, and on PostgreSQL at commit): every rebuild statement joins it, so a backlog of any number of
# slices costs the same few statements (one INSERT ... SELECT per roll-up measure), not a rebuild
# per slice. ``team_id`` 0: every team of the organisation that month. Not in the models' metadata:
# never migrated.
SLICES = Table("rollup_slices", MetaData(),
               Column("organisation_id", Integer, primary_key=True, autoincrement=False),
               Column("month", Date, primary_key=True),
               Column("team_id", Integer, primary_key=True, autoincrement=False),
               Column("month_end", Date, nullable=False),
               prefixes=["TEMPORARY"], postgresql_on_commit="DELETE ROWS")
EVERY_TEAM = 0


def slices_window(org, team, day):
    """Rows of the slices in ``SLICES``: joined on the organisation and the day's month, for the
    slice's team or every team. The first and last day of all the slices, also given as values
    (``slices_from``, ``slices_until``), let PostgreSQL's planner see how few raw rows that is (it
    cannot estimate a range join, and would scan every contact)."""
    s = SLICES.c
    return [day >= bindparam("slices_from", type_=Date),
            day < bindparam("slices_until", type_=Date),
            s.organisation_id == org, day >= s.month, day < s.month_end,
            or_(s.team_id == EVERY_TEAM, s.team_id == team)]


def team_slices_window(org, team, day):
    """``slices_window`` when no slice is a whole organisation's (the usual catch-up): the team is
    part of the join, so that each slice reads its own team's rows through the (team, date) index,
    not every team's of its organisation and month (a night of 33 marked teams read each contact
    of an organisation's month once per team of it)."""
    s = SLICES.c
    return [day >= bindparam("slices_from", type_=Date),
            day < bindparam("slices_until", type_=Date),
            s.team_id == team, s.organisation_id == org, day >= s.month, day < s.month_end]


def slices_month_window(dialect):
    """``slices_window`` for referrals, which no index reads by date: both planners read them once
    (only those dated within the slices' span go further) and look each one's slice up by its key,
    instead of reading an organisation's referrals again for each of its slices (``org + 0``: no
    lookup from the slices into the referrals by organisation, which SQLite's planner would
    otherwise prefer)."""
    def window(org, team, day):
        s = SLICES.c
        return [day >= bindparam("slices_from", type_=Date),
                day < bindparam("slices_until", type_=Date),
                s.organisation_id == org + 0, s.month == month_expr(day, dialect),
                or_(s.team_id == EVERY_TEAM, s.team_id == team)]
    return window


def _in_slices(table):
    """Roll-up rows of the slices (their month first: the roll-up tables' keys start with it)."""
    s = SLICES.c
    return [table.month.in_(select(s.month)),
            exists().where(s.organisation_id == table.organisation_id, s.month == table.month,
                           or_(s.team_id == EVERY_TEAM, s.team_id == table.team_id))]


def _in_slice_months(table):
    """Organisation-level roll-up rows of the slices' (organisation, month)."""
    s = SLICES.c
    return [table.month.in_(select(s.month)),
            exists().where(s.organisation_id == table.organisation_id, s.month == table.month)]


def _fill_slices(conn, keys):
    """``SLICES`` := ``keys`` (organisation, team or None for every team, month)."""
    conn.execute(CreateTable(SLICES, if_not_exists=True))
    conn.execute(delete(SLICES))
    conn.execute(insert(SLICES), [
        {"organisation_id": o, "team_id": EVERY_TEAM if t is None else t, "month": m,
         "month_end": add_months(m, 1)}
        for o, t, m in sorted(keys, key=_key_order)])
    # its size, so that the planners walk the slices and read each one through the raw tables'
    # indexes (organisation, date), instead of probing the slices for every raw row
    conn.execute(text("ANALYZE temp.rollup_slices" if conn.dialect.name == "sqlite"
                      else "ANALYZE rollup_slices"))


@cache
def _slice_statements(dialect, every_team=True):
    """(table, columns, SELECT) of every roll-up measure over the slices in ``SLICES`` (built
    once); ``every_team`` False: no slice is a whole organisation's (``team_slices_window``)."""
    window = slices_window if every_team else team_slices_window
    sources = (_contact_sources(dialect, window) + _item_sources(dialect, window)
               + _referral_sources(dialect, slices_month_window(dialect))
               + _shift_sources(dialect, window)
               + _site_sources(dialect, window))
    monthly = [(RollupMonthly, ROLLUP_COLUMNS, stmt) for stmt in sources]
    return monthly + [(RollupPersonMonth, PERSON_COLUMNS, _person_source(dialect, window))]


def refresh_keys(conn, keys):
    """Recompute the (organisation_id, team_id, month) slices in ``keys`` (months frozen by a purge
    are kept), all of them together: the number of statements does not grow with the number of
    slices."""
    frozen = frozen_before(conn)
    wide = {(o, m) for o, t, m in keys if t is None}
    keys = {(o, None if (o, m) in wide else t, m) for o, t, m in keys
            if o is not None and m is not None and (frozen is None or m >= frozen)}
    if not keys:
        return
    _fill_slices(conn, keys)
    before = _slice_persons(conn, _in_slices)
    conn.execute(delete(RollupMonthly).where(*_in_slices(RollupMonthly)))
    conn.execute(delete(RollupPersonMonth).where(*_in_slices(RollupPersonMonth)))
    months = [m for _o, _t, m in keys]
    span = {"slices_from": min(months), "slices_until": add_months(max(months), 1)}
    every_team = any(t is None for _o, t, _m in keys)
    for table, columns, stmt in _slice_statements(conn.dialect.name, every_team):
        conn.execute(insert(table).from_select(columns, stmt.params(span)))
    # persons whose rows changed
    persons = {row[0] for row in before ^ _slice_persons(conn, _in_slices)}
    _rebuild_org(conn, _in_slice_months)
    _rebuild_spans(conn, persons)
    refresh_others(conn, keys)


def refresh_others(conn, keys):
    for refresh in REFRESHERS:
        refresh(conn, keys)


def frozen_before(conn):
    """First month that may be rebuilt from the raw tables: months holding days purged by the
    latest cut-off keep their roll-ups as they were (None: nothing was ever purged)."""
    rows = conn.execute(select(AuditEvent.details).where(AuditEvent.action == "purge")).scalars()
    cutoffs = [date.fromisoformat(d["cutoff"]) for d in rows if isinstance(d, dict)
               and d.get("cutoff")]
    if not cutoffs:
        return None
    cutoff = max(cutoffs)
    return cutoff if cutoff.day == 1 else add_months(month_start(cutoff), 1)


def refresh_rollups(session, months=None):
    """Rebuild every roll-up (months=None) or only the given months (dates, any day of the month).

    Serialised with ``catch_up``; a full rebuild also clears the marks it covers. Frozen months are
    kept."""
    conn = session.connection()
    lock(conn)
    frozen = frozen_before(conn)
    if months is None:
        from ..seed import analyze
        analyze(conn)  # a full rebuild follows a bulk write: plan its scans on fresh statistics
        last_mark = conn.execute(select(func.max(RollupDirty.id))).scalar()
        if frozen is None:
            _rebuild(conn, all_window, lambda t: [], full=True)
            _rebuild_org(conn, lambda t: [])
        else:
            _rebuild(conn, lambda org, team, day: [day >= frozen], lambda t: [t.month >= frozen],
                     full=True)
            _rebuild_org(conn, lambda t: [t.month >= frozen])
        _rebuild_spans(conn)
        refresh_others(conn, None)
        if last_mark is not None:
            conn.execute(delete(RollupDirty).where(RollupDirty.id <= last_mark))
        return
    persons = set()
    for month in sorted(
            {month_start(m) for m in months if frozen is None or month_start(m) >= frozen}):
        persons |= _rebuild(conn, range_window(month, add_months(month, 1)), lambda t,
                            m=month: [t.month == m])
        _rebuild_org(conn, lambda t, m=month: [t.month == m])
    _rebuild_spans(conn, persons)
    refresh_others(conn, {(None, None, month_start(m)) for m in months
                          if frozen is None or month_start(m) >= frozen})


# --- catching up before reads ------------------------------------------------------

LOCK_KEY = 0x6F757472  # "outr": the advisory lock held by whoever rebuilds roll-ups
PENDING = "rollups_marked"  # session.info flag: this transaction wrote marks not yet committed


def lock(conn):
    """Let one refresher at a time rebuild roll-ups, until the end of its transaction.

    PostgreSQL: a transaction-level advisory lock. SQLite: a no-op write takes the database's
    single write lock now, before the marks are read."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    else:
        conn.execute(delete(RollupDirty).where(RollupDirty.id < 0))


def pending(session):
    """The last committed mark's id, or None when no slice is marked dirty (one read of the primary
    key's end: the cheap path of every read)."""
    return session.execute(select(func.max(RollupDirty.id))).scalar()


# bounds one catch-up transaction (and how long it holds SQLite's write lock)
MARKS_PER_TRANSACTION = 5000


def process_marks(conn, max_marks=None, up_to=None):
    """Under the lock: claim committed marks (the oldest ``max_marks`` of them up to id ``up_to``,
    or all) by deleting them, and rebuild their slices in the same transaction; returns the number
    of marks claimed.

    The DELETE ... RETURNING removes exactly the marks it reads: a mark committed meanwhile (on
    PostgreSQL, even with a smaller id) stays for the next catch-up, and a rollback puts the claimed
    marks back."""
    lock(conn)
    claim = delete(RollupDirty)
    if max_marks is not None or up_to is not None:
        oldest = select(RollupDirty.id).order_by(RollupDirty.id).limit(max_marks)
        claim = claim.where(
            RollupDirty.id.in_(oldest if up_to is None else oldest.where(RollupDirty.id <= up_to)))
    rows = conn.execute(
        claim.returning(RollupDirty.organisation_id, RollupDirty.team_id, RollupDirty.month)).all()
    if rows:
        refresh_keys(conn, {(r.organisation_id, r.team_id, _as_date(r.month)) for r in rows})
    return len(rows)


def catch_up(session):
    """Bring the roll-ups up to date with every write committed before this call (call before
    reading them); in a request that accepts figures as they stand (``figures_may_lag``), only a
    backlog of at most ``ROLLUPS_READ_SLICES`` slices (``lag_or_catch_up``).

    Set-based: a night's backlog, whatever the number of slices, is one transaction of a few dozen
    statements. Bounded: the marks committed before the call, in transactions of at most
    ``MARKS_PER_TRANSACTION`` marks each, committed here (writers waiting for SQLite's write lock
    never wait for a whole backlog); marks committed meanwhile are the next reader's. When
    ``session`` itself holds uncommitted writes, inside the session's transaction instead (they
    commit together, and SQLite's write lock is already the session's). Returns the number of marks
    processed."""
    if _lag() is not None:  # this request already answers from the figures as they stand
        return 0
    last = pending(session)
    if last is None:
        return 0
    if _writing(session):
        return process_marks(session.connection())
    if _may_lag() and _lagging(session):
        return 0
    done = 0
    while True:
        with session.get_bind().begin() as conn:
            processed = process_marks(conn, MARKS_PER_TRANSACTION, up_to=last)
        done += processed
        if processed < MARKS_PER_TRANSACTION:
            return done


# --- pages that answer before a backlog is caught up --------------------------------------------
#
# A night's backlog takes seconds to rebuild; a page read never waits for it. A request that can
# say how recent its figures are (the indicator pages: a notice; the read API: ``figures``) calls
# ``figures_may_lag`` first. Its catch-up then rebuilds a small backlog (``ROLLUPS_READ_SLICES``
# slices: a reader's own recent writes) as before; a larger one is left to a background thread of
# the process (and to the ``catch-up-rollups`` timer), and the request reads the roll-ups as they
# stand: every write marked before the oldest pending mark is in them (``figures_lag``). Exports,
# commands and services keep catching up in full: what they write down is never behind.

DEFAULT_READ_SLICES = 2
_background = {"thread": None, "lock": threading.Lock()}


def figures_may_lag():
    """This request may read the roll-ups as they stand when the backlog is large (it shows
    ``figures_lag``)."""
    if has_request_context():
        g.rollups_may_lag = True


def figures_lag():
    """None when this request's figures include every committed write; else ``{"as_of": naive
    UTC datetime or None}``: every write marked before ``as_of`` is included (None: marks older
    than migration 0017, time unknown), later ones are being caught up."""
    return _lag()


def _lag():
    return g.get("rollups_lag") if has_request_context() else None


def _may_lag():
    return has_request_context() and g.get("rollups_may_lag", False)


def read_slices(app):
    """``ROLLUPS_READ_SLICES``: unset, 2 (test apps: -1, they always catch up first unless a
    test sets it)."""
    limit = app.config.get("ROLLUPS_READ_SLICES")
    if limit is None:
        return -1 if app.testing else DEFAULT_READ_SLICES
    return int(limit)


def _lagging(session):
    """True, with ``g.rollups_lag`` set and a background catch-up started once the answer is sent,
    when more than ``read_slices`` slices are pending (two small reads of ``rollup_dirty``)."""
    limit = read_slices(current_app)
    if limit < 0:
        return False
    t = RollupDirty
    marked = session.execute(
        select(t.organisation_id, t.team_id, t.month).distinct().limit(limit + 1)).all()
    if len(marked) <= limit:
        return False
    as_of = session.execute(select(func.min(t.marked_at))).scalar()
    g.rollups_lag = {"as_of": as_of}
    app = current_app._get_current_object()

    @after_this_request
    def start_once_answered(response):
        # once the answer is sent, not beside it: the reader does not share its CPU
        response.call_on_close(lambda: catch_up_in_background(app))
        return response

    return True


def catch_up_in_background(app):
    """Catch up every pending mark in a thread of this process (one at a time; a thread already
    running will see the new marks too, or the next read starts another). Returns the thread."""
    with _background["lock"]:
        thread = _background["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_catch_up_thread, args=(app,), daemon=True,
                                      name="rollups-catch-up")
            _background["thread"] = thread
            thread.start()
        return thread


def _catch_up_thread(app):
    from ..extensions import db
    with app.app_context():
        try:
            catch_up(db.session)
            db.session.commit()
        except Exception:  # logged; the marks stay for the next catch-up
            db.session.rollback()
            app.logger.exception("background roll-up catch-up failed")
        finally:
            db.session.remove()


def _writing(session):
    if session.info.get(PENDING):
        return True
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    return conn.dialect.name == "sqlite" and bool(getattr(dbapi, "in_transaction", False))


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@contextmanager
def suspended():
    """Skip the write listener (bulk paths that call ``refresh_rollups`` themselves)."""
    _state["suspended"] += 1
    try:
        yield
    finally:
        _state["suspended"] -= 1


# --- keeping them current on write -----------------------------------------------

def _values(obj, attr):
    """Current and previously committed values of ``attr``."""
    history = sa_inspect(obj).attrs[attr].history
    values = list(history.added) + list(history.deleted) + list(history.unchanged)
    return [v for v in values if v is not None] or [getattr(obj, attr, None)]


def _contact_keys(contact):
    return {(o, t, month_start(d)) for o in _values(contact, "organisation_id")
            for t in _values(contact, "team_id") for d in _values(contact, "occurred_on") if d}


CONTACT_KEY = ("organisation_id", "team_id", "occurred_on")


def _lookup_contacts(session, contact_ids, objects):
    """{contact id: (organisation, team, day)}: from the session's own objects when it holds them
    loaded (a contact saved with its material, orientations and referrals: no SQL), else one SELECT.
    New objects are not in the identity map yet during ``after_flush``: they come from
    ``objects``."""
    flushed = {o.id: o for o in objects if isinstance(o, Contact)}
    found, missing = {}, set()
    for contact_id in contact_ids:
        contact = flushed.get(contact_id) or session.identity_map.get(
            sa_inspect(Contact).identity_key_from_primary_key([contact_id]))
        state = sa_inspect(contact) if contact is not None else None
        if state is not None and not state.deleted and not set(CONTACT_KEY) & state.unloaded:
            found[contact_id] = tuple(getattr(contact, attr) for attr in CONTACT_KEY)
        else:
            missing.add(contact_id)
    if missing:
        rows = session.connection().execute(
            select(Contact.id, *[getattr(Contact, a) for a in CONTACT_KEY])
            .where(Contact.id.in_(missing)))
        found.update({r.id: (r.organisation_id, r.team_id, r.occurred_on) for r in rows})
    return found


def _referral_keys(referral, contacts):
    found = contacts.get(referral.contact_id)
    team = found[1] if found else (referral.contact.team_id if referral.contact is not None
                                   else None)
    days = [d for _m, column, _r in REFERRAL_STEPS for d in _values(referral, column) if d]
    return {(o, team, month_start(d)) for o in _values(referral, "organisation_id") for d in days}


def _shift_keys(conn, shift):
    keys = {(o, t, month_start(d)) for o in _values(shift, "organisation_id")
            for t in _values(shift, "team_id") for d in _values(shift, "shift_on") if d}
    rows = conn.execute(select(Contact.organisation_id, Contact.team_id, Contact.occurred_on)
                        .where(Contact.shift_id == shift.id).distinct())
    keys |= {(r[0], r[1], month_start(r[2])) for r in rows}
    return keys | _shift_referral_keys(conn, shift.id)


def _shift_referral_keys(conn, shift_id):
    """The months of every step of the referrals recorded in a shift: they follow its state."""
    steps = [getattr(Referral, column)
             for column in dict.fromkeys(c for _m, c, _r in REFERRAL_STEPS)]
    rows = conn.execute(select(Referral.organisation_id, Contact.team_id, *steps)
                        .join(Contact, Contact.id == Referral.contact_id)
                        .where(Contact.shift_id == shift_id))
    return {(r[0], r[1], month_start(day)) for r in rows for day in r[2:] if day}


def _touched(session):
    changed = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    return list(session.new) + changed + list(session.deleted)


def dirty_keys(session, objects):
    conn = session.connection()
    child_ids = {o.contact_id for o in objects
                 if isinstance(o, (ContactMaterial, Orientation, Referral))}
    contacts = _lookup_contacts(session, child_ids, objects)
    keys = set()
    for obj in objects:
        if isinstance(obj, Contact):
            keys |= _contact_keys(obj)
        elif isinstance(obj, (ContactMaterial, Orientation)):
            found = contacts.get(obj.contact_id)
            keys |= {(found[0], found[1], month_start(found[2]))} if found else (
                _contact_keys(obj.contact) if obj.contact is not None else set())
        elif isinstance(obj, Referral):
            keys |= _referral_keys(obj, contacts)
        elif isinstance(obj, Shift):
            keys |= _shift_keys(conn, obj) | _site_keys(conn, obj)
        elif isinstance(obj, SiteObservation):
            keys |= _site_keys(conn, obj)
    return keys


WATCHED = (Contact, ContactMaterial, Orientation, Referral, Shift, SiteObservation)


def _after_flush(session, _flush_context):
    """Mark the slices this flush touched; the marks commit (or roll back) with the data."""
    if _state["suspended"]:
        return
    objects = [o for o in _touched(session) if isinstance(o, WATCHED)]
    if objects:
        mark(session, objects)


def mark(session, objects):
    """Write the marks of the slices ``objects`` touch, in the session's transaction: the listener's
    work on a flush, and that of writers inserting without the ORM's flush (``contacts.rows``)."""
    keys = {k for k in dirty_keys(session, objects) if k[0] is not None and k[2] is not None}
    if keys:
        session.connection().execute(insert(RollupDirty), [
            {"organisation_id": o, "team_id": t, "month": m}
            for o, t, m in sorted(keys, key=_key_order)])
        session.info[PENDING] = True


def _key_order(key):
    return (key[0], key[1] or 0, key[2])


def _transaction_ended(session, *_args):
    session.info.pop(PENDING, None)


LISTENERS = (("after_flush", _after_flush), ("after_commit", _transaction_ended),
             ("after_rollback", _transaction_ended))


def install_listener():
    for name, fn in LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def rollup_rows(session):
    """Every roll-up row, sorted, once caught up (tests compare this with a full recomputation)."""
    catch_up(session)
    monthly = session.execute(select(*[getattr(RollupMonthly, c) for c in ROLLUP_COLUMNS])).all()
    persons = session.execute(
        select(*[getattr(RollupPersonMonth, c) for c in PERSON_COLUMNS])).all()
    orgs = session.execute(select(RollupOrgMonthly.__table__)).all()
    spans = session.execute(select(RollupPersonSpan.__table__)).all()
    counts = session.execute(select(RollupSpanCount.__table__)).all()
    multi = session.execute(select(RollupMultiCount.__table__)).all()
    return [sorted(map(_normal, rows)) for rows in (monthly, persons, orgs, spans, counts, multi)]


def _normal(row):
    return tuple(str(v) if isinstance(v, date) else (int(v) if isinstance(v, bool) else v)
                 for v in row)


__all__ = [
    "add_months",
    "and_",
    "catch_up",
    "figures_lag",
    "figures_may_lag",
    "install_listener",
    "mark",
    "month_start",
    "refresh_keys",
    "refresh_rollups",
    "suspended",
]
