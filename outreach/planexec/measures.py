"""Plan-execution figures, computed from the registers and the referral records. Raw numbers here;
``card.py`` protects the person-derived ones before anyone reads them.

Conventions (also written on the report card):
- a night belongs to the day it starts; a stay uses the nights from its admission day to the day before
  its exit; a stay still open (or exited after the period) runs to the period's last night;
- places on a day = the latest capacity row dated on or before that day, per programme and operator;
- occupancy of a month = person-nights used / place-nights available;
- length of stay = exit - admission in days, over stays completed in the period; open stays apart;
- a return to the street = an exit of the period followed by a contact with the same pseudonym code
  within 6 (12) months and no later than the period's end.
"""
import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_

from ..extensions import db
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
    """A count that remembers the referral rows it counts (``ids``): its cell, for ``protection``."""

    def __new__(cls, value, ids=()):
        tally = super().__new__(cls, value)
        tally.ids = tuple(ids)
        return tally


def tally_sum(tallies):
    """The sum of counts, over the union of their rows (a stay counted in two months is one row of the total)."""
    tallies = list(tallies)
    return Tally(sum(tallies), dict.fromkeys(rid for t in tallies for rid in t.ids))


def shift_months(day, n):
    """The same day ``n`` months later (earlier), clamped to the month's end: 31 Jan + 1 -> 28/29 Feb."""
    first = add_months(month_start(day), n)
    return first.replace(day=min(day.day, (add_months(first, 1) - ONE_DAY).day))


def overlap_days(start, stop, period):
    """Days d of ``period`` with start <= d < stop (``stop`` None: open)."""
    stop = period.last + ONE_DAY if stop is None else min(stop, period.last + ONE_DAY)
    return max(0, (stop - max(start, period.first)).days)


# --- places and occupancy ------------------------------------------------------------

def capacity_steps(programme_ids, until):
    """{programme_id: [(from, to or None, places), ...]} summed over operators, from the register."""
    rows = db.session.execute(
        db.select(PlaceCapacity.programme_id, PlaceCapacity.organisation_id, PlaceCapacity.starts_on,
                  PlaceCapacity.places)
        .where(PlaceCapacity.programme_id.in_(programme_ids), PlaceCapacity.starts_on <= until)
        .order_by(PlaceCapacity.programme_id, PlaceCapacity.organisation_id, PlaceCapacity.starts_on,
                  PlaceCapacity.id)).all()
    per_operator = defaultdict(dict)
    for programme_id, organisation_id, starts_on, places in rows:
        per_operator[(programme_id, organisation_id)][starts_on] = places  # same day: the latest entry wins
    steps = defaultdict(list)
    for (programme_id, _org), changes in per_operator.items():
        days = sorted(changes)
        for i, day in enumerate(days):
            steps[programme_id].append((day, days[i + 1] if i + 1 < len(days) else None, changes[day]))
    return steps


def place_nights(steps, period):
    return sum(places * overlap_days(start, stop, period) for start, stop, places in steps)


def places_on(steps, day):
    return sum(places for start, stop, places in steps if start <= day and (stop is None or day < stop))


def stays(programme_ids, period):
    """(programme_id, referral id, admitted_on, exited_on or None) of stays using a night of ``period``
    or ending in it; an exit after the period is not known yet on its last day."""
    rows = db.session.execute(
        db.select(Referral.programme_id, Referral.id, Referral.admitted_on, Referral.exited_on)
        .where(Referral.programme_id.in_(programme_ids), Referral.admitted_on.isnot(None),
               Referral.admitted_on <= period.last,
               or_(Referral.exited_on.is_(None), Referral.exited_on >= period.first))).all()
    return [(p, rid, a, e if e is not None and e <= period.last else None) for p, rid, a, e in rows]


def occupancy(programme_ids, period):
    """{programme_id: [(month Period, place_nights, person_nights Tally), ...]} for every month of ``period``."""
    steps = capacity_steps(programme_ids, period.last)
    by_programme = defaultdict(list)
    for programme_id, rid, admitted, exited in stays(programme_ids, period):
        by_programme[programme_id].append((rid, admitted, exited))
    return {pid: [(month, place_nights(steps.get(pid, []), month), _nights(by_programme[pid], month))
                  for month in period.months()] for pid in programme_ids}


def _nights(rows, period):
    used = [(rid, overlap_days(a, e, period)) for rid, a, e in rows]
    return Tally(sum(n for _r, n in used), (rid for rid, n in used if n))


def length_of_stay(programme_ids, period):
    """Completed stays of the period (exit in it): count, median days, buckets; open stays at its end."""
    completed, open_days = {}, {}
    for _p, rid, admitted, exited in stays(programme_ids, period):
        if exited is not None:
            completed[rid] = (exited - admitted).days
        else:
            open_days[rid] = (period.last - admitted).days + 1
    buckets = [Tally(len(ids), ids) for ids in
               ([r for r, d in completed.items() if low <= d and (high is None or d <= high)]
                for low, high in STAY_BUCKETS)]
    return {"completed": Tally(len(completed), completed),
            "median": statistics.median(completed.values()) if completed else None,
            "buckets": buckets, "open": Tally(len(open_days), open_days),
            "open_median": statistics.median(open_days.values()) if open_days else None}


def exits_by_reason(programme_ids, period):
    """{exit_reason_id: count (Tally)} of exits in the period."""
    rows = db.session.execute(
        db.select(Referral.exit_reason_id, Referral.id)
        .where(Referral.programme_id.in_(programme_ids), Referral.exited_on.between(period.first, period.last))
        .order_by(Referral.id)).all()
    by_reason = defaultdict(list)
    for reason, rid in rows:
        by_reason[reason].append(rid)
    return {reason: Tally(len(ids), ids) for reason, ids in by_reason.items()}


def returns_to_street(programme_ids, period):
    """Exits of the period with a code, and how many were followed by a street contact of the same code
    within 6 and 12 months (contacts up to the period's end only: the figure is the same later)."""
    first_after = (db.select(Referral.id, Referral.exited_on, func.min(Contact.occurred_on))
                   .select_from(Referral)
                   .outerjoin(Contact, (Contact.person_id == Referral.person_id)
                              & (Contact.occurred_on > Referral.exited_on) & (Contact.occurred_on <= period.last))
                   .where(Referral.programme_id.in_(programme_ids), Referral.person_id.isnot(None),
                          Referral.exited_on.between(period.first, period.last))
                   .group_by(Referral.id, Referral.exited_on))
    rows = db.session.execute(first_after).all()
    counts = {"exits": Tally(len(rows), (rid for rid, _e, _s in rows))}
    for months in RETURN_WINDOWS:
        ids = [rid for rid, exited, seen in rows if seen is not None and _as_date(seen) <= shift_months(exited, months)]
        counts[months] = Tally(len(ids), ids)
    return counts


def _as_date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def refusals_no_place(programme_ids, refusal_reason_id, period):
    ids = db.session.execute(
        db.select(Referral.id)
        .where(Referral.programme_id.in_(programme_ids), Referral.refusal_reason_id == refusal_reason_id,
               Referral.refused_on.between(period.first, period.last))).scalars().all()
    return Tally(len(ids), ids)


# --- action progress ----------------------------------------------------------------

def statuses_on(day):
    """{action_id: latest ActionStatusChange dated on or before ``day``}; actions without one: not started."""
    rows = db.session.execute(db.select(ActionStatusChange).where(ActionStatusChange.effective_on <= day)
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
    return db.session.execute(db.select(BudgetLine).where(BudgetLine.year.between(first_year, last_year))
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
    return db.session.execute(db.select(PopulationEstimate).where(PopulationEstimate.estimated_on <= day)
                              .order_by(PopulationEstimate.estimated_on.desc(), PopulationEstimate.id.desc())
                              .limit(1)).scalar_one_or_none()


def persons_met(last_day):
    """The dashboard's file active (distinct pseudonym codes met on validated shifts in the 12 months ending with
    the month of ``last_day``; anonymous passages never): one definition of "persons reached" for the whole app."""
    from ..indicators.measures import MEASURES, run
    month = month_start(last_day)
    return run(MEASURES["file_active"], {}, (month, month))
