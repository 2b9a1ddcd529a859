"""The report card's roll-ups: ``plan_stays`` (one row of facts per referral with an admission, an
exit or a refusal: its days as numbers and its cell key's halves) and ``plan_stay_months`` (per
programme and month, the stays with a night summed by event). Fed like the dashboard's roll-ups:
every referral write marks its (organisation, team, month) slices (``indicators.rollups``' write
listener; bulk paths refresh months), and the catch-up that rebuilds those slices calls
``refresh`` here with the same slices: a constant number of statements whatever their number.
``RolledFacts`` reads them with the interface of ``measures.Facts`` and the same figures
(``tests/test_planexec_rollup.py`` compares the two after writes through every path).

How the card's figures come out of them (period [F, L], day numbers):
- whole months: nights from the running count of stays (admissions minus ends of nights before the
  month) and the month's events; the stays with a night in month m are those admitted up to m minus
  those whose last night is before m (counts and cell keys alike);
- partial months (the period's ends) and the period's total: one SUM over ``plan_stays``;
- stays completed (exit in the period), open at its end, exits by reason, refusals: aggregates of
  ``plan_stays`` by its exit (refusal) day index, medians from the lengths' histogram and a window;
- returns to the street: each exit's first contact of the same code after it, read from ``contacts``
  (an index seek per exit of the period): a contact moved between months would leave a stored figure
  stale."""

import datetime as dt
from collections import defaultdict
from functools import cache

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)

from ..extensions import db
from ..indicators import rollups
from ..indicators.cellkeys import MASK
from ..indicators.measures import EPOCH, day_number, epoch_days
from ..indicators.rollups import add_months, month_expr, month_start
from ..models import Contact, Referral
from ..planexec_models import PlanStay, PlanStayMonth
from .measures import ONE_DAY, RETURN_WINDOWS, STAY_BUCKETS, Tally, shift_months

HALF = 2**32
STEP_DAYS = (
    "admitted_on",
    "exited_on",
    "refused_on",
)  # the referral dates a plan_stays row exists for
MONTHS_OF = {
    "admitted_on": "admitted_month",
    "exited_on": "exited_month",
    "refused_on": "refused_month",
}


# --- writing -------------------------------------------------------------------------


def _stay_row(r):
    """The ``plan_stays`` row of a referral row (id, organisation, programme, person, admitted,
    exited, exit reason, refused, refusal reason)."""
    from .protection import record_key

    admitted, exited, refused = r.admitted_on, r.exited_on, r.refused_on
    stop = None if admitted is None or exited is None else max(admitted, exited)
    key = record_key(r.id)
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
        "last_night_month": _month(stop - ONE_DAY)
        if stop is not None and stop > admitted
        else None,
        "exited_month": _month(exited),
        "refused_month": _month(refused),
        "key_hi": key >> 32,
        "key_lo": key & (HALF - 1),
    }


def _number(day):
    return None if day is None else day_number(day)


def _month(day):
    return None if day is None else month_start(day)


def _referral_rows(conn, where):
    r = Referral
    return conn.execute(
        select(
            r.id,
            r.organisation_id,
            r.programme_id,
            r.person_id,
            r.admitted_on,
            r.exited_on,
            r.exit_reason_id,
            r.refused_on,
            r.refusal_reason_id,
        ).where(or_(*[getattr(r, c).isnot(None) for c in STEP_DAYS]), *where)
    ).all()


def refresh(conn, keys=None):
    """Rebuild the rows of the referrals dated (admission, exit, refusal) in the marked
    (organisation, team, month) slices (``keys``; team ignored, organisation None: every
    organisation), and the months of ``plan_stay_months`` they touch; everything when ``keys`` is
    None. Called under the roll-ups' lock."""
    if keys is None:
        conn.execute(delete(PlanStay))
        _insert_stays(conn, _referral_rows(conn, []))
        conn.execute(delete(PlanStayMonth))
        _insert_months(conn, None)
        return
    pairs = {(o, m) for o, _t, m in keys if m is not None}
    if not pairs:
        return
    s = PlanStay
    gone = conn.execute(
        delete(s)
        .where(_in_pairs(pairs, s.organisation_id, [getattr(s, c) for c in MONTHS_OF.values()]))
        .returning(s.programme_id, s.admitted_month, s.stop_month, s.last_night_month)
    ).all()
    dialect = conn.dialect.name
    r = Referral
    rows = _referral_rows(
        conn,
        [
            _in_pairs(
                pairs,
                r.organisation_id,
                [month_expr(getattr(r, c), dialect) for c in STEP_DAYS],
                dated=r,
            )
        ],
    )
    new = _insert_stays(conn, rows)
    cells = {(p, m) for p, *months in gone for m in months if m is not None}
    cells |= {
        (row["programme_id"], row[c])
        for row in new
        for c in ("admitted_month", "stop_month", "last_night_month")
        if row[c] is not None
    }
    if cells:
        t = PlanStayMonth
        conn.execute(delete(t).where(tuple_(t.programme_id, t.month).in_(sorted(cells))))
        _insert_months(conn, sorted(cells))


def _in_pairs(pairs, organisation, months, dated=None):
    """Rows whose (organisation, month of one of ``months``) is a marked pair (organisation None:
    any). ``dated``: the referrals, first narrowed to the marks' span of dates (no index reads
    them by month)."""
    every = sorted({m for o, m in pairs if o is None})
    some = sorted((o, m) for o, m in pairs if o is not None and m not in every)
    first, until = min(m for _o, m in pairs), add_months(max(m for _o, m in pairs), 1)
    found = []
    for i, month in enumerate(months):
        span = (
            [getattr(dated, STEP_DAYS[i]) >= first, getattr(dated, STEP_DAYS[i]) < until]
            if dated
            else []
        )
        either = ([month.in_(every)] if every else []) + (
            [tuple_(organisation, month).in_(some)] if some else []
        )
        found.append(and_(*span, or_(*either)))
    return or_(*found)


def _insert_stays(conn, rows):
    new = [_stay_row(r) for r in rows]
    for at in range(0, len(new), 5000):
        conn.execute(insert(PlanStay), new[at : at + 5000])
    return new


PARTS = (
    ("a", "admitted_month", "admitted"),
    ("s", "stop_month", "stop"),
    ("l", "last_night_month", "stop"),
)


def _insert_months(conn, cells):
    """``plan_stay_months`` of the (programme, month) ``cells`` (every one when None) from
    ``plan_stays``."""
    s = PlanStay
    nights = and_(s.admitted.isnot(None), or_(s.stop.is_(None), s.stop > s.admitted))
    for part, month_column, day_column in PARTS:
        month, day = getattr(s, month_column), getattr(s, day_column)
        where = [nights, month.isnot(None)] + (
            [tuple_(s.programme_id, month).in_(cells)] if cells else []
        )
        conn.execute(
            insert(PlanStayMonth).from_select(
                ["programme_id", "month", "part", "n", "days", "key_hi", "key_lo"],
                select(
                    s.programme_id,
                    month,
                    literal_column(f"'{part}'"),
                    func.count(),
                    func.sum(day),
                    func.sum(s.key_hi),
                    func.sum(s.key_lo),
                )
                .where(*where)
                .group_by(s.programme_id, month),
            )
        )


rollups.REFRESHERS.append(refresh)


# --- reading -------------------------------------------------------------------------


def _key(hi, lo):
    return ((int(hi or 0) << 32) + int(lo or 0)) & MASK


def _tally(n, hi, lo):
    n = int(n or 0)
    return Tally(n, None, _key(hi, lo) if n else 0)


class RolledFacts:
    """``measures.Facts`` from the roll-ups: the same figures (cell keys included) for
    ``programme_ids`` over ``period``, from a few aggregates instead of every referral row of the
    period."""

    def __init__(self, programme_ids, period):
        rollups.catch_up(db.session)
        self.period, self.ids = period, list(programme_ids)
        self.first, self.last = day_number(period.first), day_number(period.last)
        self.conn = db.session.connection()
        self._occupancy = self._open = self._exits = None
        self._refusals = {}

    # occupancy

    def occupancy(self, programme_id, steps):
        from .measures import place_nights

        if self._occupancy is None:
            self._occupancy = self._read_occupancy()
        months, total, _open = self._occupancy
        rows = [
            (m, place_nights(steps, m), tallies.get(programme_id, Tally(0, None, 0)))
            for m, tallies in months
        ]
        return rows, total.get(programme_id, Tally(0, None, 0))

    def _read_occupancy(self):
        """([(month Period, {programme: Tally}), ...], {programme: Tally of the period},
        {programme: (count, key) of the stays open at its end}): whole months from
        ``plan_stay_months`` alone, the partial months at the period's ends from their day-level
        events."""
        segments = list(self.period.months())
        months = self._month_sums(segments)
        events = self._edge_events([m for m in segments if not _whole(m)])
        out, total, ending = [(m, {}) for m in segments], {}, {}
        for pid in self.ids:
            state = _Running(months[(pid, None)])
            for i, m in enumerate(segments):
                sums = months[(pid, month_start(m.first))]
                if _whole(m):
                    out[i][1][pid] = state.whole(m, sums)
                else:
                    out[i][1][pid] = state.partial(m, events.get((pid, month_start(m.first)), []))
                if i == 0:
                    before_first = state.last_nights_through(self.first - 1, events, pid, m)
                if i == len(segments) - 1:
                    admitted = state.admitted_through(self.last, events, pid, m, sums)
                    ending[pid] = state.open_at(
                        self.last, events.get((pid, month_start(m.first)), []), m, sums)
                state.close(sums)
            used = sum(out[i][1][pid] for i in range(len(segments)))
            total[pid] = Tally(used, None, (admitted - before_first) & MASK if used else 0)
        return out, total, ending

    def _month_sums(self, segments):
        """{(programme, month, None: the months before): {part: (n, days, key)}}."""
        start, end = month_start(segments[0].first), month_start(segments[-1].first)
        out = defaultdict(dict)
        rows = self.conn.execute(_month_sums_statement(), {"ids": self.ids, "start": start,
                                                           "end": end}).all()
        for pid, m, part, n, days, hi, lo in rows:
            out[(pid, _as_date(m))][part] = (int(n), int(days or 0), _key(hi, lo))
        return out

    def _edge_events(self, partial):
        """{(programme, month): [(day, +1 admission / -1 end of nights, key), ...] by day} of the
        stays with a night, in the partial months, from their first day to the period's day in
        them."""
        if not partial:
            return {}
        params = {"ids": self.ids}
        for i, m in enumerate(partial):
            params[f"x{i}"], params[f"y{i}"] = day_number(month_start(m.first)), day_number(m.last)
        out = defaultdict(list)
        for pid, day, sign, hi, lo in self.conn.execute(_edge_statement(len(partial)),
                                                        params).all():
            out[(pid, month_start(EPOCH + dt.timedelta(int(day))))].append(
                (int(day), int(sign), _key(hi, lo))
            )
        return {k: sorted(v) for k, v in out.items()}

    # stays, exits, refusals

    def length_of_stay(self, programme_id):
        """Completed stays of the period (exit in it): count, median days, buckets; open stays at
        its end."""
        if self._open is None:
            self._open = self._read_open()
        lengths = self._exit_facts()[0].get(programme_id, [])
        completed = _sum_tallies([(n, key) for _d, n, key in lengths])
        buckets = [
            _sum_tallies(
                [(n, key) for d, n, key in lengths if low <= d and (high is None or d <= high)]
            )
            for low, high in STAY_BUCKETS
        ]
        n_open, key_open, middle = self._open.get(programme_id, (0, 0, ()))
        return {
            "completed": completed,
            "median": _median([(d, n) for d, n, _k in lengths]),
            "buckets": buckets,
            "open": Tally(n_open, None, key_open if n_open else 0),
            "open_median": _middle(self.last + 1 - a for a in middle) if n_open else None,
        }

    def _read_open(self):
        """{programme: (count, key, the one or two middle admission days)} of stays open at the
        period's end (admitted by then, not exited: the stays with a night on its last day):
        their count and keys from the occupancy's running state, then each programme's middle
        read at its offset in the stays' index by admission day (a window over every open stay
        costs four times as much; summing them, 1.3 ms at 1M)."""
        if self._occupancy is None:
            self._occupancy = self._read_occupancy()
        counts = {pid: (n, key) for pid, (n, key) in self._occupancy[2].items() if n}
        params = {"last": self.last}
        for i, (pid, (n, _key_sum)) in enumerate(sorted(counts.items())):
            params.update({f"p{i}": pid, f"n{i}": 1 if n % 2 else 2, f"o{i}": (n - 1) // 2})
        days = defaultdict(list)
        if counts:
            for pid, admitted in self.conn.execute(_middles_statement(len(counts)), params).all():
                days[pid].append(int(admitted))
        return {pid: (n, key, sorted(days[pid])) for pid, (n, key) in counts.items()}

    def exits_by_reason(self, programme_id):
        """{exit_reason_id: count (Tally)} of exits in the period, in the order ``Facts`` finds them
        (the lowest referral id of each reason first)."""
        return self._exit_facts()[1].get(programme_id, {})

    def _exit_facts(self):
        """(lengths, exits, returns) of the period's exits, from one walk of them by exit day:
        {programme: [(days, count, key), ...] by days} of the stays completed in the period;
        {programme: {reason: Tally}}; {programme: [(key, exit day, first contact of the same code
        after it up to the period's end)]} of the exits with a code. About a thousand rows at 1M
        contacts, each read once instead of three times (three statements)."""
        if self._exits is None:
            self._exits = self._read_exit_facts()
        return self._exits

    def _read_exit_facts(self):
        rows = self.conn.execute(_exits_statement(), {
            "ids": self.ids, "first": self.first, "last": self.last,
            "last_day": self.period.last}).all()
        lengths = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        reasons = defaultdict(lambda: defaultdict(lambda: [0, 0, None]))
        returns = defaultdict(list)
        last = self.last
        for pid, reason, admitted, exited, hi, lo, referral_id, has_code, first_seen in rows:
            key = _key(hi, lo)
            if admitted is not None and admitted <= last:
                length = lengths[pid][exited - admitted]
                length[0] += 1
                length[1] += key
            by_reason = reasons[pid][reason]
            by_reason[0] += 1
            by_reason[1] += key
            # text compared as Python sorts it (byte order; PostgreSQL's collation may not)
            if by_reason[2] is None or referral_id < by_reason[2]:
                by_reason[2] = referral_id
            if has_code:
                returns[pid].append((key, exited, first_seen))
        return (
            {
                pid: [(days, n, key & MASK) for days, (n, key) in sorted(by_days.items())]
                for pid, by_days in lengths.items()
            },
            {
                pid: {
                    reason: Tally(n, None, key & MASK)
                    for reason, (n, key, _first) in sorted(by.items(), key=lambda kv: kv[1][2])
                }
                for pid, by in reasons.items()
            },
            returns,
        )

    def refusals(self, programme_id, refusal_reason_id):
        if refusal_reason_id not in self._refusals:
            rows = self.conn.execute(_refusals_statement(), {
                "ids": self.ids, "first": self.first, "last": self.last,
                "reason": refusal_reason_id}).all()
            self._refusals[refusal_reason_id] = {pid: _tally(n, hi, lo) for pid, n, hi, lo in rows}
        return self._refusals[refusal_reason_id].get(programme_id, Tally(0, None, 0))

    # returns to the street

    def returns_to_street(self, programme_id):
        """Exits of the period with a code, and how many were followed by a street contact of the
        same code within 6 and 12 months (contacts up to the period's end only)."""
        rows = self._exit_facts()[2].get(programme_id, [])
        counts = {"exits": _sum_tallies([(1, key) for key, _e, _s in rows])}
        for months in RETURN_WINDOWS:
            counts[months] = _sum_tallies(
                [
                    (1, key)
                    for key, exited, seen in rows
                    if seen is not None and seen <= _window_end(exited, months)
                ]
            )
        return counts


# The card's statements, built once per process with bound parameters (building them again on
# every card cost a third of its SQLAlchemy time); each docstring says what it reads.


def _ids():
    return bindparam("ids", expanding=True)


@cache
def _month_sums_statement():
    """``plan_stay_months`` of the programmes ``ids``: summed by part before ``start``, per month
    from ``start`` to ``end``."""
    t = PlanStayMonth
    sums = [func.sum(t.n), func.sum(t.days), func.sum(t.key_hi), func.sum(t.key_lo)]
    before = (
        select(t.programme_id, null().label("month"), t.part, *sums)
        .where(t.programme_id.in_(_ids()), t.month < bindparam("start", type_=Date))
        .group_by(t.programme_id, t.part)
    )
    inside = select(t.programme_id, t.month, t.part, t.n, t.days, t.key_hi, t.key_lo).where(
        t.programme_id.in_(_ids()),
        t.month >= bindparam("start", type_=Date),
        t.month <= bindparam("end", type_=Date),
    )
    return union_all(before, inside)


@cache
def _edge_statement(spans):
    """Admissions and ends of nights of the stays with a night, day by day, in ``spans`` ranges of
    days [x{i}, y{i}]: one range of an index per span and event (an OR of the spans made SQLite's
    planner walk every stay of each programme: 3-4 ms -> 0.3 at 1M)."""
    s = PlanStay
    nights = [s.programme_id.in_(_ids()), or_(s.stop.is_(None), s.stop > s.admitted)]
    admitted = [
        select(s.programme_id, s.admitted, literal_column("1"), s.key_hi, s.key_lo).where(
            *nights, s.admitted.between(bindparam(f"x{i}"), bindparam(f"y{i}"))
        )
        for i in range(spans)
    ]
    ended = [
        select(s.programme_id, s.stop, literal_column("-1"), s.key_hi, s.key_lo).where(
            *nights, s.admitted.isnot(None), s.stop.between(bindparam(f"x{i}"), bindparam(f"y{i}"))
        )
        for i in range(spans)
    ]
    return union_all(*admitted, *ended)


@cache
def _middles_statement(programmes):
    """The middle one (``n{i}`` = 1) or two admission days of the stays open after day ``last`` of
    programme ``p{i}``, read at offset ``o{i}`` of the index by admission day."""
    s = PlanStay
    last = bindparam("last")
    where = [s.admitted.isnot(None), s.admitted <= last, or_(s.exited.is_(None), s.exited > last)]
    middles = [
        select(s.programme_id, s.admitted)
        .where(s.programme_id == bindparam(f"p{i}"), *where)
        .order_by(s.admitted)
        .limit(bindparam(f"n{i}"))
        .offset(bindparam(f"o{i}"))
        .subquery()
        for i in range(programmes)
    ]
    return union_all(*[select(m) for m in middles])


@cache
def _exits_statement():
    """Every exit of days [``first``, ``last``] of the programmes ``ids`` with its facts, and, for
    those with a code, the first street contact of the same code after it up to ``last_day``."""
    s, c = PlanStay, Contact
    seen = (
        select(func.min(c.occurred_on))
        .where(
            c.person_id == s.person_id,
            c.occurred_on > s.exited_on,
            c.occurred_on <= bindparam("last_day", type_=Date),
        )
        .correlate(s)
        .scalar_subquery()
    )
    coded = s.person_id.isnot(None)
    return select(
        s.programme_id,
        s.exit_reason_id,
        s.admitted,
        s.exited,
        s.key_hi,
        s.key_lo,
        s.referral_id,
        coded,
        epoch_days(case((coded, seen))),
    ).where(
        _among(s.programme_id, _ids()), s.exited.between(bindparam("first"), bindparam("last"))
    )


@cache
def _refusals_statement():
    """Refusals of days [``first``, ``last``] for the reason ``reason``, per programme of
    ``ids``."""
    s = PlanStay
    return (
        select(s.programme_id, func.count(), func.sum(s.key_hi), func.sum(s.key_lo))
        .where(
            _among(s.programme_id, _ids()),
            s.refused.between(bindparam("first"), bindparam("last")),
            s.refusal_reason_id == bindparam("reason"),
        )
        .group_by(s.programme_id)
    )


class _Running:
    """A programme's stays with a night, month after month: the count occupying the night before the
    month, the keys of those admitted before it and of those whose last night is before it."""

    def __init__(self, before):
        a, e, last = (before.get(p, (0, 0, 0)) for p in ("a", "s", "l"))
        self.count, self.admitted, self.last_nights = a[0] - e[0], a[2], last[2]
        self.stopped = e[2]  # keys of the stays whose nights ended before the month

    def whole(self, m, sums):
        a, e, _l = (sums.get(p, (0, 0, 0)) for p in ("a", "s", "l"))
        end = day_number(m.last) + 1
        used = m.days * self.count + end * (a[0] - e[0]) - (a[1] - e[1])
        return Tally(used, None, (self.admitted + a[2] - self.last_nights) & MASK if used else 0)

    def partial(self, m, events):
        """Nights of the days [x, y] of a month from its events (the stays with a night in it:
        admitted up to y, minus those whose last night is before x, i.e. ended by day x)."""
        first, x, y = day_number(month_start(m.first)), day_number(m.first), day_number(m.last)
        count, used, admitted, ended = self.count, 0, self.admitted, self.last_nights
        for day, sign, key in events:
            if day < x:
                count += sign
            elif day <= y:
                used += sign * (y - day + 1)
            if sign > 0 and day <= y:
                admitted += key
            elif (
                sign < 0 and first < day <= x
            ):  # an end on the month's first day: counted before it
                ended += key
        used += (y - x + 1) * count
        return Tally(used, None, (admitted - ended) & MASK if used else 0)

    def last_nights_through(self, day, events, pid, m):
        """Keys of the stays whose last night is on or before ``day`` (in month ``m``, before
        closing it)."""
        first = day_number(month_start(m.first))
        return self.last_nights + sum(
            k
            for d, sign, k in events.get((pid, month_start(m.first)), [])
            if sign < 0 and first < d <= day + 1
        )

    def admitted_through(self, day, events, pid, m, sums):
        """Keys of the stays admitted on or before ``day`` (the end of month ``m``'s segment)."""
        if _whole(m):
            return self.admitted + sums.get("a", (0, 0, 0))[2]
        return self.admitted + sum(
            k for d, sign, k in events.get((pid, month_start(m.first)), []) if sign > 0 and d <= day
        )

    def open_at(self, day, events, m, sums):
        """(count, key) of the stays with a night on ``day``, the end of month ``m``'s segment
        (before closing it): admitted by then and not yet ended."""
        if _whole(m):
            a, e = (sums.get(p, (0, 0, 0)) for p in ("a", "s"))
            return self.count + a[0] - e[0], (self.admitted + a[2] - self.stopped - e[2]) & MASK
        count, key = self.count, self.admitted - self.stopped
        for d, sign, k in events:
            if d <= day:
                count += sign
                key += sign * k
        return count, key & MASK

    def close(self, sums):
        a, e, last = (sums.get(p, (0, 0, 0)) for p in ("a", "s", "l"))
        self.count += a[0] - e[0]
        self.admitted += a[2]
        self.last_nights += last[2]
        self.stopped += e[2]


def _among(programme, ids):
    """``programme IN ids`` as a filter only (``+ 0``), for the reads that walk the index by exit or
    refusal day: without statistics, SQLite's planner prefers the equality on the programme and
    reads every stay of each (38 ms for the exits of a year at 1M, 1 ms by their day)."""
    return (programme + 0).in_(ids)


def _whole(month):
    return month.first.day == 1 and (month.last + ONE_DAY).day == 1


def _as_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _sum_tallies(parts):
    n = sum(count for count, _key in parts)
    return Tally(n, None, sum(key for _n, key in parts) & MASK if n else 0)


def _median(histogram):
    """``statistics.median`` of the values of a sorted [(value, count), ...]."""
    n = sum(count for _v, count in histogram)
    if not n:
        return None
    wanted = [(n - 1) // 2, n // 2]
    found, seen = [], 0
    for value, count in histogram:
        while wanted and wanted[0] < seen + count:
            found.append(value)
            wanted.pop(0)
        seen += count
    return found[0] if n % 2 else (found[0] + found[1]) / 2


def _middle(values):
    """``statistics.median`` given only the one (odd count) or two (even) middle values."""
    values = sorted(values)
    return values[0] if len(values) == 1 else (values[0] + values[1]) / 2


_WINDOWS = {}


def _window_end(exited, months):
    """Day number of the exit's day ``months`` later (clamped to the month's end), cached."""
    key = (exited, months)
    if key not in _WINDOWS:
        if len(_WINDOWS) > 100_000:
            _WINDOWS.clear()
        _WINDOWS[key] = day_number(shift_months(EPOCH + dt.timedelta(exited), months))
    return _WINDOWS[key]
