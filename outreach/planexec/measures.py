"""Plan-execution figures, computed from the registers and the referral records. Raw numbers here;
``card.py`` protects the person-derived ones before anyone reads them.

Conventions (also written on the report card):
- a night belongs to the day it starts; a stay uses the nights from its admission day to the day
  before its exit; a stay still open (or exited after the period) runs to the period's last night;
- places on a day = the latest capacity row dated on or before that day, per programme and operator;
- occupancy of a month = person-nights used / place-nights available;
- length of stay = exit - admission in days, over stays completed in the period; open stays apart;
- a return to the street = an exit of the period followed by a contact with the same pseudonym code
  within 6 (12) months and no later than the period's end.
"""
import bisect
import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import accumulate

from sqlalchemy import and_, func, or_

from ..extensions import db
from ..indicators.measures import EPOCH, day_number, epoch_days
from ..indicators.rollups import add_months, month_start
from ..models import (
    ActionMilestone,
    ActionStatusChange,
    BudgetLine,
    Contact,
    PlaceCapacity,
    PopulationEstimate,
    Referral,
)

ONE_DAY = dt.timedelta(days=1)
STAY_BUCKETS = ((0, 7), (8, 30), (31, 90), (91, 180), (181, 365), (366, None))
RETURN_WINDOWS = (6, 12)


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    def months(self):
        month = month_start(self.first)
        while month <= self.last:
            yield Period(max(month, self.first), min(add_months(month, 1) - ONE_DAY, self.last))
            month = add_months(month, 1)

    @property
    def days(self):
        return (self.last - self.first).days + 1


class Tally(int):
    """A count that remembers the referral rows it counts (``ids``), or only their cell key
    (``key``: the sum of the rows' keys, ``protection.records_key``): its cell, for
    ``protection``."""

    def __new__(cls, value, ids=(), key=None):
        tally = super().__new__(cls, value)
        tally.ids = None if ids is None else tuple(ids)  # None: only the key is known
        tally.key = key
        return tally


def tally_sum(tallies):
    """The sum of counts, over the union of their rows (a stay counted in two months is one row of
    the total)."""
    tallies = list(tallies)
    if any(t.ids is None for t in tallies):
        raise ValueError("a sum of tallies whose rows are not known")
    return Tally(sum(tallies), dict.fromkeys(rid for t in tallies for rid in t.ids))


def disjoint_sum(tallies):
    """The sum of counts over disjoint rows (exits by reason): its cell key is the sum of theirs."""
    tallies = list(tallies)
    if tallies and all(t.ids is not None for t in tallies):
        return tally_sum(tallies)
    n = sum(tallies)
    return Tally(n, None, sum(t.key if t.key is not None else 0 for t in tallies) if n else 0)


def shift_months(day, n):
    """The same day ``n`` months later (earlier), clamped to the month's end: 31 Jan + 1 -> 28/29
    Feb."""
    first = add_months(month_start(day), n)
    return first.replace(day=min(day.day, (add_months(first, 1) - ONE_DAY).day))


def overlap_days(start, stop, period):
    """Days d of ``period`` with start <= d < stop (``stop`` None: open)."""
    stop = period.last + ONE_DAY if stop is None else min(stop, period.last + ONE_DAY)
    return max(0, (stop - max(start, period.first)).days)


# --- places and occupancy ------------------------------------------------------------

def capacity_steps(programme_ids, until):
    """{programme_id: [(from, to or None, places), ...]} summed over operators, from the
    register."""
    rows = db.session.execute(
        db.select(PlaceCapacity.programme_id, PlaceCapacity.organisation_id,
                  PlaceCapacity.starts_on, PlaceCapacity.places)
        .where(PlaceCapacity.programme_id.in_(programme_ids), PlaceCapacity.starts_on <= until)
        .order_by(PlaceCapacity.programme_id, PlaceCapacity.organisation_id,
                  PlaceCapacity.starts_on, PlaceCapacity.id)).all()
    per_operator = defaultdict(dict)
    for programme_id, organisation_id, starts_on, places in rows:
        # same day: the latest entry wins
        per_operator[(programme_id, organisation_id)][starts_on] = places
    steps = defaultdict(list)
    for (programme_id, _org), changes in per_operator.items():
        days = sorted(changes)
        for i, day in enumerate(days):
            steps[programme_id].append(
                (day, days[i + 1] if i + 1 < len(days) else None, changes[day]))
    return steps


def place_nights(steps, period):
    return sum(places * overlap_days(start, stop, period) for start, stop, places in steps)


def places_on(steps, day):
    return sum(places for start, stop, places in steps if start <= day
               and (stop is None or day < stop))


class Facts:
    """The referral figures of ``period`` for many programmes from two statements: the period's
    referral rows (stays, exits, refusals; dates read as day numbers) and each exit's first street
    contact after it, split per programme in Python. Every figure below is the same as counting day
    by day (``tests/test_planexec_places``).

    Tallies carry their cell key (the sum of their rows' keys, ``protection``) instead of the rows
    themselves."""

    def __init__(self, programme_ids, period):
        from .protection import record_key
        self.period, self.ids = period, list(programme_ids)
        self.first, self.last = day_number(period.first), day_number(period.last)
        self.month_starts = [day_number(m.first) for m in period.months()]
        self.month_of = [bisect.bisect_right(self.month_starts, d) - 1
                         for d in range(self.first, self.last + 1)]
        self._key = record_key
        r = Referral
        rows = db.session.connection().execute(  # Core: no ORM layer over thousands of plain tuples
            db.select(r.programme_id, r.id, epoch_days(r.admitted_on), epoch_days(r.exited_on),
                      r.exit_reason_id, r.refusal_reason_id, epoch_days(r.refused_on))
            .where(r.programme_id.in_(self.ids),
                   or_(and_(r.admitted_on.isnot(None), r.admitted_on <= period.last,
                            or_(r.exited_on.is_(None), r.exited_on >= period.first)),
                       r.exited_on.between(period.first, period.last),
                       r.refused_on.between(period.first, period.last)))).all()
        self.rows = defaultdict(list)
        # ordered here: in SQL, an order on the text key is a random walk
        for row in sorted(rows, key=_by_id):
            self.rows[row[0]].append(row[1:])
        self._returns = None
        self._stays = {}

    def stays(self, programme_id):
        """(referral id, admitted, exited or None) in day numbers: stays using a night of the period
        or ending in it; an exit after the period is not known yet on its last day."""
        if programme_id not in self._stays:
            self._stays[programme_id] = self._read_stays(programme_id)
        return self._stays[programme_id]

    def _read_stays(self, programme_id):
        first, last = self.first, self.last
        return [(rid, a, e if e is not None and e <= last else None)
                for rid, a, e, *_rest in self.rows[programme_id]
                if a is not None and a <= last and (e is None or e >= first)]

    def occupancy(self, programme_id, steps):
        """[(month Period, place_nights, person_nights Tally), ...] for every month; and the
        period's person-nights (a Tally over the stays with a night in it)."""
        first, stop = self.first, self.last + 1
        starts, month_of = self.month_starts, self.month_of
        nights_delta = [0] * (stop - first + 1)
        keys_delta = [0] * (len(starts) + 1)
        total_key, total_ids, key_of = 0, 0, self._key
        for rid, a, e in self.stays(programme_id):
            lo, hi = max(a, first) - first, (stop if e is None or e > stop else e) - first
            if hi <= lo:
                continue
            nights_delta[lo] += 1
            nights_delta[hi] -= 1
            key = key_of(rid)
            keys_delta[month_of[lo]] += key
            keys_delta[month_of[hi - 1] + 1] -= key
            total_key += key
            total_ids += 1
        # nights used before each day
        nights_before = [0, *accumulate(accumulate(nights_delta[:-1]))]
        ends = [*starts[1:], stop]
        months, key = [], 0
        for i, month in enumerate(self.period.months()):
            key += keys_delta[i]
            used = nights_before[ends[i] - first] - nights_before[starts[i] - first]
            months.append(
                (month, place_nights(steps, month), Tally(used, None, key if used else 0)))
        return months, Tally(sum(u for _m, _p, u in months), None, total_key if total_ids else 0)

    def length_of_stay(self, programme_id):
        """Completed stays of the period (exit in it): count, median days, buckets; open stays at
        its end."""
        completed, open_days = {}, {}
        for rid, admitted, exited in self.stays(programme_id):
            if exited is not None:
                completed[rid] = exited - admitted
            else:
                open_days[rid] = self.last - admitted + 1
        buckets = [self._tally(
            [r for r, d in completed.items() if low <= d and (high is None or d <= high)])
                   for low, high in STAY_BUCKETS]
        return {"completed": self._tally(completed),
                "median": statistics.median(completed.values()) if completed else None,
                "buckets": buckets, "open": self._tally(open_days),
                "open_median": statistics.median(open_days.values()) if open_days else None}

    def exits_by_reason(self, programme_id):
        """{exit_reason_id: count (Tally)} of exits in the period."""
        by_reason = defaultdict(list)
        for rid, _a, e, reason, *_rest in self.rows[programme_id]:
            if e is not None and self.first <= e <= self.last:
                by_reason[reason].append(rid)
        return {reason: self._tally(ids) for reason, ids in by_reason.items()}

    def refusals(self, programme_id, refusal_reason_id):
        return self._tally(
            [rid for rid, _a, _e, _x, reason, refused, *_rest in self.rows[programme_id]
             if reason == refusal_reason_id and refused is not None
             and self.first <= refused <= self.last])

    def returns_to_street(self, programme_id):
        """Exits of the period with a code, and how many were followed by a street contact of the
        same code within 6 and 12 months (contacts up to the period's end only: the figure is the
        same later)."""
        if self._returns is None:
            self._returns = self._read_returns()
        rows = self._returns.get(programme_id, [])
        counts = {"exits": self._tally([rid for rid, _e, _s in rows])}
        for months in RETURN_WINDOWS:
            ids = [rid for rid, exited, seen in rows
                   if seen is not None
                   and seen <= day_number(shift_months(EPOCH + dt.timedelta(exited), months))]
            counts[months] = self._tally(ids)
        return counts

    def _read_returns(self):
        """{programme_id: [(referral id, exit day, first contact of the same code after it or
        None)]}: one statement; the first contact is an index seek on contacts(person_id,
        occurred_on)."""
        r, c = Referral, Contact
        seen = (db.select(func.min(c.occurred_on))
                .where(c.person_id == r.person_id, c.occurred_on > r.exited_on,
                       c.occurred_on <= self.period.last)
                .correlate(r).scalar_subquery())
        rows = db.session.connection().execute(
            db.select(r.programme_id, r.id, epoch_days(r.exited_on), epoch_days(seen))
            .where(r.programme_id.in_(self.ids), r.person_id.isnot(None),
                   r.exited_on.between(self.period.first, self.period.last))).all()
        by_programme = defaultdict(list)
        for programme_id, *rest in sorted(rows, key=_by_id):
            by_programme[programme_id].append(tuple(rest))
        return by_programme

    def _tally(self, ids):
        ids = list(ids)
        return Tally(len(ids), ids, sum(map(self._key, ids)))


def _by_id(row):
    return row[1]


def stays(programme_ids, period):
    """(programme_id, referral id, admitted_on, exited_on or None) of stays using a night of
    ``period`` or ending in it; an exit after the period is not known yet on its last day."""
    facts = Facts(programme_ids, period)
    return [(pid, rid, EPOCH + dt.timedelta(a), None if e is None else EPOCH + dt.timedelta(e))
            for pid in facts.ids for rid, a, e in facts.stays(pid)]


def occupancy(programme_ids, period):
    """{programme_id: [(month Period, place_nights, person_nights Tally), ...]} for every month of
    ``period``."""
    steps = capacity_steps(programme_ids, period.last)
    facts = Facts(programme_ids, period)
    return {pid: facts.occupancy(pid, steps.get(pid, []))[0] for pid in programme_ids}


def length_of_stay(programme_ids, period):
    return _merged(Facts(programme_ids, period), programme_ids, "length_of_stay")


def exits_by_reason(programme_ids, period):
    return _merged(Facts(programme_ids, period), programme_ids, "exits_by_reason")


def returns_to_street(programme_ids, period):
    return _merged(Facts(programme_ids, period), programme_ids, "returns_to_street")


def refusals_no_place(programme_ids, refusal_reason_id, period):
    facts = Facts(programme_ids, period)
    return tally_sum(facts.refusals(pid, refusal_reason_id) for pid in programme_ids)


def _merged(facts, programme_ids, figure):
    """A figure over one programme (the card's case) or several (their rows together)."""
    if len(programme_ids) == 1:
        return getattr(facts, figure)(programme_ids[0])
    facts.rows[ALL] = sorted(row for pid in programme_ids for row in facts.rows[pid])
    if figure == "returns_to_street":
        facts._returns = facts._read_returns()
        facts._returns[ALL] = sorted(row for pid in programme_ids
                                     for row in facts._returns.get(pid, []))
    return getattr(facts, figure)(ALL)


ALL = "all"


# --- action progress ----------------------------------------------------------------

def statuses_on(day):
    """{action_id: latest ActionStatusChange dated on or before ``day``}; actions without one: not
    started."""
    rows = db.session.execute(
        db.select(ActionStatusChange).where(ActionStatusChange.effective_on <= day)
        .order_by(ActionStatusChange.action_id, ActionStatusChange.effective_on,
                  ActionStatusChange.id)).scalars()
    return {row.action_id: row for row in rows}


def late_milestones(day):
    """{action_id: [milestone, ...]} known on ``day``, due before it and not done by it."""
    rows = db.session.execute(
        db.select(ActionMilestone)
        .where(ActionMilestone.created_on <= day, ActionMilestone.due_on < day,
               or_(ActionMilestone.done_on.is_(None), ActionMilestone.done_on > day))
        .order_by(ActionMilestone.due_on, ActionMilestone.id)).scalars()
    late = defaultdict(list)
    for row in rows:
        late[row.action_id].append(row)
    return late


def status_counts(actions, statuses):
    return Counter(statuses[a.id].status if a.id in statuses else "not_started" for a in actions)


# --- budgets ------------------------------------------------------------------------

def budget_lines(first_year, last_year):
    return db.session.execute(
        db.select(BudgetLine).where(BudgetLine.year.between(first_year, last_year))
        .order_by(BudgetLine.year)).scalars().all()


def budget_totals(lines, key):
    """{key(line): [planned, committed, spent]} in cents."""
    totals = defaultdict(lambda: [0, 0, 0])
    for line in lines:
        total = totals[key(line)]
        total[0] += line.planned_cents
        total[1] += line.committed_cents
        total[2] += line.spent_cents
    return totals


# --- coverage -----------------------------------------------------------------------

def estimate_on(day):
    """The latest population estimate dated on or before ``day``."""
    return db.session.execute(
        db.select(PopulationEstimate).where(PopulationEstimate.estimated_on <= day)
        .order_by(PopulationEstimate.estimated_on.desc(), PopulationEstimate.id.desc())
        .limit(1)).scalar_one_or_none()


def persons_met(last_day):
    """The dashboard's file active (distinct pseudonym codes met on validated shifts in the 12
    months ending with the month of ``last_day``; anonymous passages never): one definition of
    "persons reached" for the whole app, read as the dashboard reads it (its span counts: a dozen
    roll-up rows, not a distinct count over persons)."""
    from ..indicators.measures import Evaluator
    month = month_start(last_day)
    return Evaluator({}).value("file_active", {}, (month, month))
