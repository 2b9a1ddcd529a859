"""Measures as code: ``MEASURES = {code: Measure}``; each builds SQL over the roll-ups.

``measure.query(filters, period)`` returns a SELECT of one number (or of rows to
reduce, for medians). Filters: organisation_id, team_id, sector_id, and item codes
(programme, destination, material); ``include_provisional`` adds data of shifts
not yet validated. A period is ``(first_month, last_month)`` (dates, inclusive).

Contact counts keep the sector; material, orientation, referral and shift measures
are not broken down by sector (``by_sector = False``): with a sector filter they
answer None. Referral steps count in the month of their own date and, like every figure, follow the
state of the shift where the referral was recorded (validated only, unless ``include_provisional``).
Persons: a person is new in the month of their first contact in time, all organisations together
(whatever the order in which contacts were recorded); for an organisation or a team, new persons and
persons met by 2+ organisations are among the persons it met (see ``persons_query``).
"""
import statistics
from dataclasses import dataclass, field
from datetime import date

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, case, func, null, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import (
    RefItem,
    RollupMonthly,
    RollupMultiCount,
    RollupOrgMonthly,
    RollupPersonMonth,
    RollupPersonSpan,
    RollupSpanCount,
)
from ..site_models import Site
from .rollups import add_months, catch_up

ITEM_KINDS = {"material": "material", "destination": "destination", "programme": "programme"}


@dataclass
class Measure:
    code: str
    label: object
    kind: str  # sum | persons | median
    rollups: tuple = ()
    item_kind: str | None = None
    scale: float = 1
    by_sector: bool = False
    unit: str = ""
    params: dict = field(default_factory=dict)

    def query(self, filters, period):
        return BUILDERS[self.kind](self, filters, period)


def _sum(code, label, rollups, item_kind=None, by_sector=False, scale=1, unit=""):
    return Measure(code, label, "sum", tuple(rollups), item_kind, scale, by_sector, unit)


MEASURE_LIST = [
    _sum("contacts", _l("Rencontres"), ["contacts_known", "contacts_anonymous", "contacts_refusal"],
         by_sector=True),
    _sum("known_contacts", _l("Rencontres de personnes identifiées"), ["contacts_known"],
         by_sector=True),
    _sum("anonymous_contacts", _l("Passages anonymes (rencontres)"), ["contacts_anonymous"],
         by_sector=True),
    _sum("anonymous_passages", _l("Passages anonymes (personnes)"), ["passages"], by_sector=True),
    _sum("refusal_contacts", _l("Refus / pas de contact"), ["contacts_refusal"], by_sector=True),
    _sum("contacts_with_code", _l("Rencontres avec un code"), ["with_code"], by_sector=True),
    Measure("distinct_persons", _l("Personnes distinctes"), "persons", params={"what": "distinct"}),
    Measure("new_persons", _l("Nouvelles personnes"), "persons", params={"what": "new"}),
    Measure("file_active", _l("File active (12 derniers mois)"), "persons",
            params={"what": "distinct", "window": 12}),
    Measure("persons_multi_org", _l("Personnes vues par au moins 2 organisations"), "persons",
            params={"what": "multi_org"}),
    _sum("material", _l("Matériel distribué"), ["material"], "material"),
    _sum("orientations", _l("Orientations"), ["orientations"], "destination"),
    _sum("orientations_accompanied", _l("Orientations accompagnées"), ["orientations_accompanied"],
         "destination"),
    _sum("referrals_proposed", _l("Orientations hébergement proposées"), ["referrals_proposed"],
         "programme"),
    _sum("referrals_accepted", _l("Orientations hébergement acceptées"), ["referrals_accepted"],
         "programme"),
    _sum("referrals_refused", _l("Orientations hébergement refusées"), ["referrals_refused"],
         "programme"),
    _sum("refusals_no_place", _l("Refus faute de place"), ["refusals_no_place"], "programme"),
    _sum("admissions", _l("Admissions"), ["admissions"], "programme"),
    _sum("exits", _l("Sorties"), ["exits"], "programme"),
    _sum("exits_stable", _l("Sorties vers un logement stable"), ["exits_stable"], "programme"),
    Measure("median_days_to_admission", _l("Délai médian 1re rencontre → admission (jours)"),
            "median", item_kind="programme", unit="jours", params={"start": "first_seen"}),
    Measure("median_days_waiting", _l("Délai médian proposition → admission (jours)"), "median",
            item_kind="programme", unit="jours", params={"start": "proposed"}),
    _sum("shifts", _l("Maraudes"), ["shifts"]),
    _sum("night_shifts", _l("Maraudes de nuit"), ["night_shifts"]),
    _sum("staff_hours", _l("Heures d'intervenant·es"), ["staff_minutes"], scale=1 / 60, unit="h"),
    _sum("shifts_validated_48h", _l("Maraudes validées sous 48 h"), ["shifts_validated_48h"]),
]
# --- site observations (issue 21): one block ------------------------------------------------------
# Items are sites; filters ``site`` (codes) and ``arrondissement`` (numbers) choose them
# (``site_item_ids``).
MEASURE_LIST += [
    _sum("site_visits", _l("Passages sur les sites"), ["site_visits"], "site"),
    _sum("site_people_seen", _l("Personnes vues sur les sites (cumul des passages)"),
         ["site_people_seen"], "site"),
    _sum("site_used_material", _l("Matériel usagé ramassé sur les sites"), ["site_used_material"],
         "site"),
]


# --- working together (issue 21): read from their tables (``outreach.sites.measures``) ------------
MEASURE_LIST += [
    Measure("shifts_with_partners", _l("Maraudes avec des partenaires présents"), "direct"),
    Measure("handovers", _l("Orientations transmises à une autre organisation"), "direct"),
    # meetings and decisions count no person: published as they are (``params["not_people"]``)
    Measure("meetings_held", _l("Réunions de coordination tenues"), "direct",
            params={"not_people": True}),
    Measure("decisions_due", _l("Décisions de coordination à suivre"), "direct",
            params={"not_people": True}),
    Measure("decisions_on_time", _l("Décisions de coordination suivies à temps"), "direct",
            params={"not_people": True}),
]


def direct_query(measure, filters, period):
    from ..sites.measures import QUERIES
    return QUERIES[measure.code](filters, period)


def site_item_ids(filters):
    """Ids of the sites chosen by the ``site`` and ``arrondissement`` filters; None when
    unfiltered."""
    codes, numbers = filters.get("site"), filters.get("arrondissement")
    if not codes and not numbers:
        return None
    codes = {codes} if isinstance(codes, str) else set(codes or ())
    numbers = numbers if isinstance(numbers, (list, tuple)) else [numbers] if numbers else []
    numbers = {int(n) for n in numbers if str(n).isdigit()} or {-1}
    return [i for i, code, number in _per_request("sites", _read_sites)
            if (not codes or code in codes)
            and (not filters.get("arrondissement") or number in numbers)] or [-1]


def _read_sites():
    return db.session.execute(
        select(Site.id, Site.code, Site.arrondissement).order_by(Site.id)).all()


def _per_request(name, read):
    """``read()`` once per request (or app context): reference rows that every indicator of a read
    filters by, so that evaluating more indicators reads them no more often."""
    cache = g.setdefault("indicator_reference", {}) if has_app_context() else {}
    if name not in cache:
        cache[name] = read()
    return cache[name]


MEASURES = {m.code: m for m in MEASURE_LIST}


# --- filters ----------------------------------------------------------------------

def item_ids(filters, item_kind):
    """Ids of the item filter (codes) of this measure's kind; None when unfiltered (cached per
    request)."""
    if item_kind == "site":
        return site_item_ids(filters)
    codes = filters.get(item_kind) if item_kind else None
    if not codes:
        return None
    codes = [codes] if isinstance(codes, str) else codes
    kind = ITEM_KINDS[item_kind]
    ids = _per_request(("items", kind), lambda: dict(db.session.execute(
        select(RefItem.code, RefItem.id).where(RefItem.kind == kind)).all()))
    return sorted(ids[c] for c in set(codes) if c in ids) or [-1]


def _scope(table, filters, by_sector=False):
    where = []
    if filters.get("organisation_id"):
        where.append(table.organisation_id == filters["organisation_id"])
    if filters.get("team_id"):
        where.append(table.team_id == filters["team_id"])
    if by_sector and filters.get("sector_id"):
        where.append(table.sector_id == filters["sector_id"])
    if not filters.get("include_provisional"):
        where.append(table.is_validated.is_(True))
    return where


def _months(table, period):
    return [table.month >= period[0], table.month <= period[1]]


def sector_unavailable(measure, filters):
    return bool(filters.get("sector_id")) and not measure.by_sector


# --- SQL builders -----------------------------------------------------------------

def sum_query(measure, filters, period, group_by=()):
    t = RollupMonthly
    where = _scope(t, filters,
                   measure.by_sector) + _months(t, period) + [t.measure.in_(measure.rollups)]
    ids = item_ids(filters, measure.item_kind)
    if ids is not None:
        where.append(t.item_id.in_(ids))
    value = func.coalesce(func.sum(t.value), 0)
    return select(*group_by, value).where(*where).group_by(*group_by)


def person_window(measure, period):
    if "window" in measure.params:
        return (add_months(period[1], 1 - measure.params["window"]), period[1])
    return tuple(period)


def persons_query(measure, filters, period):
    """Persons of the scope (organisation, team) met in the window, by definition:

    - distinct: every person met (COUNT DISTINCT);
    - new: persons met whose first contact in time, all organisations together, falls in the window
      (no span of theirs, plan-wide, before it);
    - multi_org: persons met who were also met by another organisation within the window."""
    t = RollupPersonMonth
    window = person_window(measure, period)
    where = _scope(t, filters) + _months(t, window)
    what = measure.params["what"]
    if what == "new":
        where.append(~_seen_before(t, filters, window[0]))
    elif what == "multi_org":
        where.append(_met_by_another(t, filters, window))
    return select(func.count(t.person_id.distinct())).where(*where)


def _seen_before(t, filters, start):
    """The person of row ``t`` was met (by any organisation) before ``start``: their plan-wide first
    month, in the filters' mode, is earlier."""
    s = RollupPersonSpan
    return (select(s.person_id).where(s.person_id == t.person_id, s.scope_id == 0,
                                      s.mode == _mode(filters), s.month < start).exists())


def _met_by_another(t, filters, window):
    """The person of row ``t`` was met within ``window`` by an organisation other than the row's."""
    u = aliased(RollupPersonMonth)
    provisional = [] if filters.get("include_provisional") else [u.is_validated.is_(True)]
    return (select(u.person_id).where(u.person_id == t.person_id,
                                      u.organisation_id != t.organisation_id,
                                      *_months(u, window), *provisional).exists())


def _mode(filters):
    return 1 if filters.get("include_provisional") else 0


def persons_pair_query(filters, window):
    """Distinct, new and multi-organisation persons of one window (the dashboard's path).

    Plan-wide, from the span counts: a person counts once, on the first month of the window where
    the previous month seen falls before the window; new on the month of their first contact; met by
    2+ organisations on the person's last row of the window, ``multi_from`` within it. For an
    organisation, distinct persons from its span counts, new and multi-organisation persons by
    definition (``persons_query``). For a team, all three by definition."""
    if filters.get("team_id") or filters.get("organisation_id"):
        if filters.get("team_id"):
            distinct = _scalar(persons_query(MEASURES["distinct_persons"], filters, window))
        else:
            t = RollupSpanCount
            distinct = (select(func.sum(case((t.prev_month < window[0], t.persons), else_=0)))
                        .where(*span_scope(filters, t), *_months(t, window)).scalar_subquery())
        return select(distinct, _scalar(persons_query(MEASURES["new_persons"], filters, window)),
                      _scalar(persons_query(MEASURES["persons_multi_org"], filters, window)))
    t, mode = RollupSpanCount, _mode(filters)
    distinct = func.sum(case((t.prev_month < window[0], t.persons), else_=0))
    u = RollupMultiCount
    multi = (select(func.sum(u.persons)).where(u.mode == mode, *_months(u, window),
                                               u.next_month > window[1],
                                               u.multi_from >= window[0]).scalar_subquery())
    return select(distinct, func.sum(t.first_contacts), multi).where(*span_scope(filters, t),
                                                                     *_months(t, window))


def _scalar(query):
    return query.scalar_subquery()


def span_scope(filters, t=RollupPersonSpan):
    return [t.scope_id == (filters.get("organisation_id") or 0), t.mode == _mode(filters)]


def monthly_persons_query(filters, window):
    """(month, distinct, new, met by 2+ organisations) of each month, from the span counts (no team
    filter).

    New in month m: spans of month m holding the person's first month (also for an organisation: met
    by it in month m, first met by anyone in month m). Within one month the person's last row up to
    that month is that month's row, so "met by 2+ organisations in month m" is ``multi_from >= m``
    on it (plan-wide only)."""
    t, u = RollupSpanCount, RollupMultiCount
    multi = (select(func.sum(u.persons)).where(u.mode == t.mode, u.month == t.month,
                                               u.multi_from >= t.month)
             .correlate(t).scalar_subquery() if not filters.get("organisation_id") else null())
    return (select(t.month, func.sum(t.persons), func.sum(t.first_contacts), multi)
            .where(*span_scope(filters, t), *_months(t, window)).group_by(t.month, t.mode))


class epoch_days(FunctionElement):
    """A date column as its number of days since 1970-01-01 (an integer: no date parsing in Python,
    so thousands of admissions are read in a few milliseconds)."""
    type = Integer()
    inherit_cache = True


@compiles(epoch_days)
def _epoch_days(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def day_number(day):
    """``epoch_days`` of a Python date."""
    return (day - EPOCH).days


EPOCH = date(1970, 1, 1)


def median_query(measure, filters, period):
    """Rows of (admission day, start day) as day numbers for referrals admitted in the period, of
    the measure's programmes; the median is taken in Python."""
    query = admissions_query(filters, period)
    ids = item_ids(filters, measure.item_kind)
    if ids is not None:
        query = query.where(query.selected_columns[0].in_(ids))  # the programmes
    _programme, admitted, first_seen, proposed = query.selected_columns
    start = first_seen if measure.params["start"] == "first_seen" else proposed
    return query.with_only_columns(admitted, start).where(start.isnot(None))


def admissions_query(filters, window):
    """(programme_id, admission day, first-seen day, proposal day) of admissions in ``window``
    (months), days as ``epoch_days``, by admission day (medians in bulk). Referrals follow the state
    of the shift where they were recorded (validated only, unless provisional data is asked for),
    and a team filter is the team of their contact, as the counts do: both kept by the roll-ups
    (``admissions.RollupAdmission``), so that no contact or shift is read."""
    from .admissions import read
    return read(filters, day_number(window[0]), day_number(add_months(window[1], 1)))


BUILDERS = {"sum": sum_query, "persons": persons_query, "median": median_query,
            "direct": direct_query}


def median_days(rows):
    days = [admitted - started for *_g, admitted, started in rows if admitted is not None
            and started is not None]
    return statistics.median(days) if days else None


def run(measure, filters, period):
    """The measure's value for ``filters`` over ``period`` (None when it cannot be answered)."""
    catch_up(db.session)
    return _value(measure, filters, period)


def _value(measure, filters, period):
    """``run`` once the roll-ups are caught up (an ``Evaluator`` caught up when it was made)."""
    if sector_unavailable(measure, filters):
        return None
    result = db.session.execute(measure.query(filters, period))
    if measure.kind == "median":
        return median_days(result.all())
    value = result.scalar() or 0
    return value * measure.scale if measure.scale != 1 else value


class Evaluator:
    """Evaluates many measures for one dashboard with few queries (cached per filters and window).

    ``rollups``: the roll-up measures a read needs (None: every one, as the whole dashboard reads
    them); a drill-down or an API page of a few indicators reads only theirs. A scope of a
    drill-down (``prefetch_cells``) is read with every other group of it, cells and persons alike:
    one statement for all teams, not one per team."""

    def __init__(self, base_filters, rollups=None):
        # every dashboard, API, export and snapshot read comes through here or ``run``
        catch_up(db.session)
        self.base = dict(base_filters)
        self.rollups = None if rollups is None else frozenset(rollups)
        self._cells = {}
        self._loaded = {}  # scope -> frozenset of the roll-up measures read for it (None: all)
        self._groups = {}  # (by, scope without {by}_id) -> the {by}_id keys of a drill-down
        self._values = {}
        self._frozen_ids = {}

    def value(self, code, filters, period):
        key = (code, self._frozen(filters), period)
        if key not in self._values:
            self._values[key] = self._compute(MEASURES[code], filters, period)
        return self._values[key]

    def _frozen(self, filters):
        """``_freeze(filters)``, once per filters object (a board asks the same few dicts hundreds
        of times); the object is kept with its entry, so its id is not reused meanwhile."""
        hit = self._frozen_ids.get(id(filters))
        if hit is None or hit[0] is not filters:
            hit = self._frozen_ids[id(filters)] = (filters, _freeze(filters))
        return hit[1]

    def _compute(self, measure, filters, period):
        if sector_unavailable(measure, filters):
            return None
        if measure.kind == "persons":  # the three counts of a scope and window come together
            return self.persons(filters, person_window(measure, period))[measure.params["what"]]
        if measure.kind == "direct" and self.window is not None \
                and self.window[0] <= period[0] and period[1] <= self.window[1]:
            by_month = self._direct(measure.code, filters)
            return sum(v for month, v in by_month.items() if period[0] <= month <= period[1])
        if measure.kind != "sum":
            return _value(measure, filters, period)
        cells = self.cells(filters, measure.rollups)
        if cells is None:
            return _value(measure, filters, period)
        ids = item_ids(filters, measure.item_kind)
        by_month = self._by_month(cells, measure.rollups, ids)
        total = sum(v for month, v in by_month.items() if period[0] <= month <= period[1])
        return total * measure.scale if measure.scale != 1 else total

    def cells(self, filters, rollups=()):
        """{rollup measure: {item_id: {month: value}}} over the evaluator's window, for the scope
        filters: the read's roll-up measures (``self.rollups``), and ``rollups`` if not among
        them."""
        if self.window is None:
            return None
        scope = scope_key(filters)
        if scope not in self._cells:
            self._store(scope,
                        self._read_cells(filters, rollups=self._wanted(rollups)).get(None, {}),
                        self._wanted(rollups))
        missing = self._missing(scope, rollups)
        if missing:
            self._store(scope, self._read_cells(filters, rollups=missing).get(None, {}), missing)
        return self._cells[scope]

    def _wanted(self, rollups):
        return None if self.rollups is None else self.rollups | frozenset(rollups)

    def _missing(self, scope, rollups):
        loaded = self._loaded.get(scope)
        return None if loaded is None else frozenset(rollups) - loaded

    def _store(self, scope, cells, rollups):
        part = self._cells.setdefault(scope, {})
        part.update(cells)
        loaded = self._loaded.get(scope, frozenset())
        self._loaded[scope] = None if rollups is None or loaded is None else loaded | rollups

    def prefetch_cells(self, filters, by, keys):
        """``cells`` of every ``{by}_id`` in ``keys`` (the scopes of a drill-down) in one grouped
        read; their persons are read together too, when first asked (``persons``)."""
        if not keys:
            return
        base = {k: v for k, v in filters.items() if k != f"{by}_id"}
        self._groups[(by, scope_key(base))] = frozenset(keys)
        if self.window is None:
            return
        grouped = self._read_cells(base, by, self.rollups)
        for key in keys:
            scope = scope_key({**filters, f"{by}_id": key})
            if scope not in self._cells:
                self._store(scope, grouped.get(key, {}), self.rollups)

    def _read_cells(self, filters, by=None, rollups=None):
        """{group (None without ``by``): {rollup measure: {item_id: {month: value}}}} (of the
        roll-up measures ``rollups``; None: all)."""
        by_sector = bool(filters.get("sector_id")) or by == "sector"
        t = (RollupMonthly if by_sector or filters.get("team_id") or by == "team"
             else RollupOrgMonthly)
        group = (getattr(t, f"{by}_id"),) if by else ()
        where = _scope(t, filters, by_sector) + _months(t, self.window)
        if rollups is not None:
            where.append(t.measure.in_(sorted(rollups)))
        rows = db.session.execute(select(*group, t.measure, t.item_id, t.month, func.sum(t.value))
                                  .where(*where).group_by(*group, t.measure, t.item_id, t.month))
        cells, months = {}, {}  # a window's few months, each parsed once (SQLite gives text)
        for *key, measure, item, month, value in rows:
            day = months.get(month)
            if day is None:
                day = months[month] = _as_date(month)
            part = cells.setdefault(key[0] if by else None, {})
            part.setdefault(measure, {}).setdefault(item, {})[day] = value
        return cells

    def _direct(self, code, filters):
        """{month: count} of a measure read from its own tables, over the evaluator's window,
        once."""
        from ..sites.measures import monthly, monthly_decisions
        key = ("direct", code, _freeze(filters))
        if key not in self._values:
            if code in ("decisions_due", "decisions_on_time"):  # both in one statement
                due, on_time = monthly_decisions(db.session, filters, self.window)
                self._values[("direct", "decisions_due", _freeze(filters))] = due
                self._values[("direct", "decisions_on_time", _freeze(filters))] = on_time
            else:
                self._values[key] = monthly(db.session, code, filters, self.window)
        return self._values[key]

    def _by_month(self, cells, rollups, ids):
        key = ("by_month", id(cells), rollups, tuple(ids) if ids is not None else None)
        if key not in self._values:
            totals = {}
            for rollup in rollups:
                for item, months in cells.get(rollup, {}).items():
                    if ids is None or item in ids:
                        for month, value in months.items():
                            totals[month] = totals.get(month, 0) + value
            self._values[key] = totals
        return self._values[key]

    def persons(self, filters, window):
        """{"distinct", "new", "multi_org": persons} of the scope over ``window``; a drill-down's
        teams or organisations all in one grouped statement."""
        scope = ("persons", scope_key(filters), tuple(window))
        if scope not in self._cells:
            group = self._group_of(filters)
            if group is None:
                self._cells[scope] = _persons(
                    db.session.execute(persons_pair_query(filters, window)).one())
            else:
                self._grouped_persons(*group, window)
        return self._cells[scope]

    def _grouped_persons(self, by, base, keys, window):
        """A drill-down's persons: each count (distinct, new, multi) read for every group at once,
        when first asked (a page without new persons never pays for their test)."""
        evaluator = self

        class Counts(dict):
            def __missing__(self, what):
                evaluator._read_grouped(by, base, keys, window, what)
                return self[what]

        for key in keys:
            self._cells.setdefault(("persons", scope_key({**base, f"{by}_id": key}), tuple(window)),
                                   Counts())

    def _read_grouped(self, by, base, keys, window, what):
        rows = dict(db.session.execute(grouped_persons_query(base, by, window, what)).all())
        for key in keys:
            counts = self._cells[("persons", scope_key({**base, f"{by}_id": key}), tuple(window))]
            dict.__setitem__(counts, what, rows.get(key) or 0)

    def _group_of(self, filters):
        """(by, filters without {by}_id, keys) when ``filters`` is one group of a drill-down by team
        or organisation, else None."""
        for by in GROUPED_PERSONS:
            key = filters.get(f"{by}_id")
            base = {k: v for k, v in filters.items() if k != f"{by}_id"}
            keys = self._groups.get((by, scope_key(base))) if key else None
            if keys is not None and key in keys:
                return by, base, keys
        return None

    window = None


SCOPE_KEYS = ("organisation_id", "team_id", "sector_id", "include_provisional")
GROUPED_PERSONS = ("team", "organisation")  # persons are not broken down by sector


def scope_key(filters):
    return _freeze({k: filters.get(k) for k in SCOPE_KEYS})


def _persons(values):
    distinct, new, multi = values
    return {"distinct": distinct or 0, "new": new or 0, "multi_org": multi or 0}


def grouped_persons_query(filters, by, window, what):
    """(team or organisation, persons) of every group of the scope over ``window``: ``what`` is
    distinct, new or multi_org, by definition as ``persons_query`` counts one group (one statement
    for a drill-down's groups). New: the person's first month, plan-wide in the filters' mode, is
    within the window (the same as no month of theirs before it), read once from the spans."""
    t = RollupPersonMonth
    group = getattr(t, f"{by}_id")
    where = _scope(t, filters) + _months(t, window)
    if what == "new":
        s = RollupPersonSpan
        where.append(t.person_id.in_(select(s.person_id).where(
            s.scope_id == 0, s.mode == _mode(filters), s.first_contacts == 1, s.month >= window[0],
            s.month <= window[1])))
    elif what == "multi_org":
        where.append(_met_by_another(t, filters, window))
    return select(group, func.count(t.person_id.distinct())).where(*where).group_by(group)


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _freeze(filters):
    return (tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                         for k, v in (filters or {}).items() if v)))
