"""Dashboard, drill-down and funnel figures: indicators evaluated from the roll-ups."""
import bisect
import statistics
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..access import scoped
from ..errors import ValidationError
from ..extensions import db
from ..models import (
    Indicator,
    Organisation,
    Plan,
    PlanAction,
    PlanAxis,
    RefItem,
    Sector,
    Team,
)
from . import catalogue  # the module, read at call time (it imports planexec, which imports us)
from . import measures as m
from .cellkeys import PERSONS_ROLLUP, CellKeys, days_key
from .rollups import add_months, month_start
from .suppression import Hidden, is_shown, protect_count, rules_for

MONTH_PATTERN = "LLL yyyy"  # stand-alone short month: "janv. 2026" in French, "Jan 2026" in English


# --- periods ----------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: date  # first month
    end: date  # last month (inclusive)
    kind: str = "custom"

    @property
    def months(self):
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def bounds(self):
        return (self.start, self.end)

    def previous(self):
        return Period(add_months(self.start, -self.months), add_months(self.start, -1), self.kind)

    @property
    def label(self):
        if self.months == 1:
            return month_label(self.start)
        return _("%(start)s à %(end)s", start=month_label(self.start), end=month_label(self.end))


def month_label(month):
    """Short month and year in the interface language; French outside a request (CLI exports)."""
    locale = get_locale() if has_request_context() else None
    return format_date(month, MONTH_PATTERN, locale=locale or "fr")


def running_label(month):
    """A month's label, saying "en cours" for the month in progress (its figures are partial)."""
    if is_running(month):
        return _("%(month)s (en cours)", month=month_label(month))
    return month_label(month)


def local_today():
    """Today in the app's zone (Paris): the month that is "en cours"."""
    from ..referrals.services import today
    return today()


def current_month(today=None):
    """The month in progress: never part of "12 derniers mois", shown apart and labelled "en
    cours"."""
    month = month_start(today or local_today())
    return Period(month, month, "month")


def is_running(month, today=None):
    """True for the month in progress (its figures are partial)."""
    return month_start(month) == current_month(today).start


def parse_period(args, today=None):
    """A Period from query arguments: the one parser of pages, exports and API
    (``outreach.queryargs``)."""
    from ..queryargs import parse_period
    return parse_period(args, today)


def months_between(start, end):
    """Months from ``start`` to ``end``, both counted."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def check_period_length(start, end, field="from"):
    """A ValidationError naming ``field`` when the period is longer than READ_MAX_MONTHS (the cost
    of a read grows with it: every page, export and API answer is bounded the same way)."""
    limit = current_app.config["READ_MAX_MONTHS"]
    months = months_between(start, end)
    if months > limit:
        raise ValidationError(
            {field: _("Période trop longue : %(months)s mois demandés, %(limit)s au plus. "
                      "Choisissez une période plus courte.", months=months, limit=limit)})


# --- filters ----------------------------------------------------------------------

def base_filters(args, user):
    """Dashboard filters (ids) of the codes in the query arguments (``outreach.queryargs``)."""
    from ..queryargs import parse_filters
    return parse_filters(args, user)


def filter_choices(user):
    orgs = (
        db.select(Organisation).where(Organisation.is_partner_institution.is_(False)).order_by(Organisation.name))
    teams = db.select(Team).order_by(Team.name)
    orgs, teams = scoped(orgs, Organisation, user), scoped(teams, Team, user)
    return {"organisations": db.session.execute(orgs).scalars().all(),
            "teams": db.session.execute(teams).scalars().all(),
            "sectors": db.session.execute(
                db.select(Sector).order_by(Sector.position)).scalars().all()}


_CODE_MODELS = {"organisation": Organisation, "team": Team, "sector": Sector}


def merged_filters(base, own):
    """Base (dashboard) filters plus an indicator's own filters (codes); conflicting scopes match
    nothing."""
    filters = dict(base)
    for key, value in (own or {}).items():
        if key in _CODE_MODELS:
            found = db.session.execute(select(_CODE_MODELS[key].id).filter_by(code=value)).scalar()
            wanted = found if found is not None else -1
            current = filters.get(f"{key}_id")
            filters[f"{key}_id"] = wanted if current in (None, wanted) else -1
        else:
            filters[key] = value
    return filters


# --- indicator values -------------------------------------------------------------

class Dashboard:
    """Evaluates indicators for one period and filter set, with the fewest queries.

    One board serves a whole request: its reads (roll-up cells, persons, cell keys, admissions) are
    cached by scope and window, so evaluating more indicators, or the same ones by month, team,
    sector or organisation (``groups``), adds no query per indicator. ``window`` (first and last
    month read) defaults to what the dashboard shows: the period, the previous one and twelve months
    of sparkline."""

    def __init__(self, period, filters, user, window=None, indicators=None):
        self.period, self.filters, self.user = period, filters, user
        # None: exact figures (an organisation's own, or protection off)
        self.rules = rules_for(user)
        rollups = None if indicators is None else needed_rollups(indicators)
        self.evaluator = m.Evaluator(filters, rollups)
        first = min(period.previous().start, add_months(period.end, -11))
        self.evaluator.window = tuple(window) if window else (first, period.end)
        self.keys = CellKeys(self.evaluator.window, rollups)
        self.spark_months = [add_months(period.end, -i) for i in range(11, -1, -1)]
        self._merged, self._prefetched, self._own = {}, {}, {}

    def merged(self, own_filters, filters=None):
        """``merged_filters`` of the board's filters (or ``filters``) and an indicator's own, once
        per pair."""
        if filters is None:  # the board's own filters: found by the indicator's filters object
            hit = self._own.get(id(own_filters))
            if hit is not None and hit[0] is own_filters:
                return hit[1]
        base = self.filters if filters is None else filters
        key = (m._freeze(base), m._freeze(own_filters))
        if key not in self._merged:
            self._merged[key] = merged_filters(base, own_filters)
        if filters is None:  # the object is kept with its entry: its id is not reused meanwhile
            self._own[id(own_filters)] = (own_filters, self._merged[key])
        return self._merged[key]

    def raw(self, indicator, period, filters=None):
        """(value, numerator, denominator) of an indicator over a period, exact (medians
        excepted)."""
        num = self._measure(indicator.numerator, indicator.numerator_filters, period, filters)
        den = self._measure(indicator.denominator, indicator.denominator_filters, period, filters) \
            if indicator.denominator else None
        return ratio(num, den, indicator), num, den

    def _measure(self, code, own_filters, period, base=None):
        filters = self.merged(own_filters, base)
        if m.sector_unavailable(m.MEASURES[code], filters):
            # not broken down by sector (medians too: they would show the unfiltered value)
            return None
        if m.MEASURES[code].kind == "median":
            return self._median(code, filters, period)
        return self.evaluator.value(code, filters, (period.start, period.end))

    def _median(self, code, filters, period):
        """The median, withheld (for protected readers) when the perturbed count of its inputs
        is."""
        days = self._median_days(m.MEASURES[code], filters, period)
        if self.rules:
            count = protect_count(len(days), days_key(days), self.rules, "median")
            if not is_shown(count):
                return count
        return statistics.median(days) if days else None

    def _median_days(self, measure, filters, period):
        """Days of each admission in the period, from one query per scope over the dashboard
        window."""
        window = self.evaluator.window
        if not window or period.start < window[0] or period.end > window[1]:
            return ([a - s for a, s in db.session.connection().execute(
                measure.query(filters, period.bounds))])
        ids = m.item_ids(filters, measure.item_kind)
        start = 1 if measure.params["start"] == "first_seen" else 2
        first, end = m.day_number(period.start), m.day_number(add_months(period.end, 1))
        days = []
        for programme, columns in self._admissions(filters, window).items():
            if ids is None or programme in ids:
                admitted = columns[0]
                low, high = bisect.bisect_left(admitted, first), bisect.bisect_left(admitted, end)
                days += [a - s for a, s in zip(admitted[low:high], columns[start][low:high])
                         if s is not None]
        return days

    def _admissions(self, filters, window):
        """{programme id: (admission days, first-seen days, proposal days)} over the window, by
        admission day (day numbers: integers, read without the ORM)."""
        key = ("admissions", filters.get("organisation_id"), filters.get("team_id"),
               bool(filters.get("include_provisional")))
        if key not in self.evaluator._values:
            # by admission day
            rows = db.session.connection().execute(m.admissions_query(filters, window)).all()
            by_programme = {}
            for row in rows:
                by_programme.setdefault(row[0], []).append(row)
            self.evaluator._values[key] = {programme: tuple(zip(*part))[1:]
                                           for programme, part in by_programme.items()}
        return self.evaluator._values[key]

    def published(self, indicator, period, filters=None):
        """The indicator over ``period`` (and ``filters``, default the board's) as this reader may
        see it: exact, or computed from protected counts."""
        value, num, den = self.raw(indicator, period, filters)
        if self.rules is None:
            return value
        num = self.protect(indicator.numerator, indicator.numerator_filters, period, num, filters)
        den = (self.protect(indicator.denominator, indicator.denominator_filters, period, den,
                            filters)
               if indicator.denominator else None)
        return ratio(num, den, indicator)

    def protect(self, code, own_filters, period, value, filters=None):
        """A measure's count as published: perturbed with its cell key, or withheld (medians already
        are)."""
        measure = m.MEASURES[code]
        if (self.rules is None or measure.kind == "median" or measure.params.get("not_people")
            or not is_shown(value)):
            return value
        key = self.keys.key(measure, self.merged(own_filters, filters), period.bounds)
        return protect_count(value, key, self.rules, measure.kind)

    def groups(self, indicator, by, keys):
        """[(label, value)] of the indicator by ``by`` over ``keys`` (``dimension_keys``), each
        published as the cell of its own that the drill-down shows (a month is its own period)."""
        if by != "month" and not self.filters.get(f"{by}_id") and not self._prefetched.get(by):
            ids = [key for key, _label in keys]
            self.evaluator.prefetch_cells(self.filters, by, ids)
            self.keys.prefetch(self.filters, by, ids)
            self._prefetched[by] = True
        rows = []
        for key, label in keys:
            sub_period = Period(key, key) if by == "month" else self.period
            rows.append(
                (label, self.published(indicator, sub_period, _narrow(self.filters, by, key))))
        return rows

    def row(self, indicator):
        value = self.published(indicator, self.period)
        previous = self.published(indicator, self.period.previous())
        target = target_for(indicator, self.period)
        return {"indicator": indicator, "value": value, "previous": previous,
                "target": target, "share": share(value, target), "change": change(value, previous),
                "status": status(indicator, value, target),
                "series": self.series(indicator), "measure": m.MEASURES[indicator.numerator]}

    def series(self, indicator):
        """Monthly values over the 12 months ending with the period (None where not computable;
        protected month by month for protected readers)."""
        measure = m.MEASURES[indicator.numerator]
        if measure.kind == "median" or measure.params.get("window"):
            return []
        num = self._monthly(indicator.numerator, indicator.numerator_filters)
        den = (self._monthly(indicator.denominator, indicator.denominator_filters)
               if indicator.denominator else [None] * len(num))
        months = [Period(mo, mo) for mo in self.spark_months]
        num = [self.protect(indicator.numerator, indicator.numerator_filters, p, v)
               for p, v in zip(months, num)]
        if indicator.denominator:
            den = [self.protect(indicator.denominator, indicator.denominator_filters, p, v)
                   for p, v in zip(months, den)]
        return [ratio(a, b, indicator) for a, b in zip(num, den)]

    def _monthly(self, code, own_filters):
        measure = m.MEASURES[code]
        filters = merged_filters(self.filters, own_filters)
        if measure.kind in ("sum", "direct"):
            return [self.evaluator.value(code, filters, (mo, mo)) for mo in self.spark_months]
        if measure.kind != "persons" or measure.params.get("window"):
            return [None] * 12
        what = measure.params["what"]
        if filters.get("team_id") or (what == "multi_org" and filters.get("organisation_id")):
            # no span counts at this scope: month by month from the definition (a query each)
            return [self.evaluator.value(code, filters, (mo, mo)) for mo in self.spark_months]
        key = ("monthly", m._freeze(filters))
        if key not in self.evaluator._values:
            window = (self.spark_months[0], self.spark_months[-1])
            rows = db.session.execute(m.monthly_persons_query(filters, window))
            self.evaluator._values[key] = {
                m._as_date(mo): dict(zip(("distinct", "new", "multi_org"), v))
                for mo, *v in rows}
        series = self.evaluator._values[key]
        return [(series.get(mo) or {}).get(what) or 0 for mo in self.spark_months]

    def actions(self, plan):
        return [{"axis": axis, "action": action, "rows": [self.row(i) for i in action.indicators]}
                for axis in plan.axes for action in axis.actions]


def needed_rollups(indicators):
    """The roll-up measures that evaluating and protecting ``indicators`` reads: their sums', and
    the atoms that key person counts (a drill-down of one indicator reads no other measure)."""
    codes = {code for i in indicators for code in (i.numerator, i.denominator) if code}
    found = {r for code in codes for r in m.MEASURES[code].rollups}
    if any(m.MEASURES[code].kind == "persons" for code in codes):
        found.add(PERSONS_ROLLUP)
    return found


def ratio(num, den, indicator):
    if num is None or isinstance(num, Hidden):
        return num
    if not indicator.denominator:
        return num * indicator.factor
    if den is None or isinstance(den, Hidden):
        return den
    return None if den == 0 else num / den * indicator.factor


def target_for(indicator, period):
    """The target of the period, pro-rated by months for plain counts with a longer target
    period."""
    for target in indicator.targets:
        if target.starts_on <= period.end and target.ends_on >= period.start:
            months = (target.ends_on.year - target.starts_on.year) * 12 + target.ends_on.month \
                - target.starts_on.month + 1
            additive = m.MEASURES[indicator.numerator].kind == "sum" and not indicator.denominator
            return (target.value * min(1, period.months / months) if additive and months
                    else target.value)
    return None


def share(value, target):
    if not isinstance(value, (int, float)) or not target:
        return None
    return value / target * 100


def change(value, previous):
    if not isinstance(value, (int, float)) or not isinstance(previous, (int, float)):
        return None
    return value - previous


def status(indicator, value, target):
    if not isinstance(value, (int, float)) or not target:
        return ""
    ratio_ = value / target
    if indicator.direction == "lower":
        return "ok" if ratio_ <= 1 else ("warn" if ratio_ <= 1.2 else "bad")
    return "ok" if ratio_ >= 1 else ("warn" if ratio_ >= 0.8 else "bad")


def load_plan():
    """The current plan with axes, actions and indicators loaded (one statement per level: the plan
    is not read twice)."""
    from sqlalchemy.orm import selectinload
    return catalogue.current_plan(
        selectinload(Plan.axes).selectinload(PlanAxis.actions)
        .selectinload(PlanAction.indicators).selectinload(Indicator.targets))


def dashboard(period, filters, user, running=False):
    """(plan, actions); with ``running``, (plan, actions, ``month_to_date``) from the same board,
    whose reads then stretch to the month in progress (one evaluation for the page, not two)."""
    plan = load_plan()
    if plan is None:
        return (None, [], None) if running else (None, [])
    window = None
    if running:
        first = min(period.previous().start, add_months(period.end, -11))
        window = (first, max(period.end, current_month().start))
    board = Dashboard(period, filters, user, window=window)
    actions = board.actions(plan)
    return (plan, actions,
            month_to_date(actions, filters, user, board=board)) if running else (plan, actions)


def month_to_date(actions, filters, user, today=None, board=None):
    """(the month in progress, {indicator code: its value so far}), shown apart from complete
    months; read by ``board`` when its window holds that month (the dashboard's own), else by a
    board of its own."""
    month = current_month(today)
    window = board.evaluator.window if board is not None else None
    if window is None or not window[0] <= month.start <= window[1]:
        board = Dashboard(month, filters, user)
    return month, {row["indicator"].code: board.published(row["indicator"], month)
                   for block in actions for row in block["rows"]}


# --- drill-down -------------------------------------------------------------------

DIMENSIONS = ("month", "team", "sector", "organisation")


def breakdown(indicator, period, filters, user, by):
    """[(label, value)] of an indicator by month, team, sector or organisation, plus the total."""
    if by not in DIMENSIONS:
        raise ValidationError({"by": _("Découpage inconnu.")})
    board = Dashboard(period, filters, user, window=period.bounds, indicators=[indicator])
    return board.groups(indicator, by,
                        dimension_keys(by, period, filters)), board.published(indicator, period)


def evaluate(indicators, period, filters, user, by=None):
    """[(indicator, value, [(label, value)] or None)]: each indicator over ``period`` as ``user``
    may see it (the dashboard's cells, protected alike), and by ``by`` when asked, from one board:
    the number of queries grows with the groups, not with the indicators (the read API's single
    evaluation)."""
    if by is not None and by not in DIMENSIONS:
        raise ValidationError({"by": _("Découpage inconnu.")})
    board = Dashboard(period, filters, user, window=period.bounds, indicators=indicators)
    keys = dimension_keys(by, period, filters) if by else None
    return [(item, board.published(item, period), board.groups(item, by, keys) if by else None)
            for item in indicators]


def _narrow(filters, by, key):
    if by == "month":
        return dict(filters)
    return {**filters, f"{by}_id": key if filters.get(f"{by}_id") in (None, key) else -1}


def dimension_keys(by, period, filters):
    if by == "month":
        return [(month, running_label(month))
                for month in (add_months(period.start, i) for i in range(period.months))]
    model = _CODE_MODELS[by]
    label = model.display_label_column() if hasattr(model, "display_label_column") else model.name
    query = select(model.id, label).order_by(model.id)
    if by == "organisation":
        query = query.where(Organisation.is_partner_institution.is_(False))
    if filters.get(f"{by}_id"):
        query = query.where(model.id == filters[f"{by}_id"])
    if by == "team" and filters.get("organisation_id"):
        query = query.where(Team.organisation_id == filters["organisation_id"])
    return [(i, label) for i, label in db.session.execute(query)]


# --- pathway funnel ---------------------------------------------------------------

# the shelter pathway
FUNNEL_STEPS = ["referrals_proposed", "referrals_accepted", "admissions", "exits_stable"]
FUNNEL_EXTRA = ["referrals_refused", "refusals_no_place"]
CARE_STEPS = ["orientations", "orientations_accompanied"]
STEP_LABELS = {"referrals_proposed": _l("Orientations hébergement proposées"),
               "referrals_accepted": _l("Acceptées"),
               "admissions": _l("Admises"), "exits_stable": _l("Sorties vers un logement stable"),
               "refusals_no_place": _l("Refusées faute de place"),
               "orientations": _l("Orientations vers le soin"),
               "orientations_accompanied": _l("dont accompagnées physiquement")}


@dataclass(frozen=True)
class Step:
    """One step of a pathway: its published count and its share (%) of the previous step of the same
    chain."""
    code: str
    value: object
    share: object = None

    @property
    def label(self):
        return STEP_LABELS[self.code]


def funnel(period, filters, user):
    """The shelter pathway (proposed -> accepted -> admitted -> exited to stable housing, no-place
    refusals beside it) and care orientations apart, each step a share of the previous one of its
    own chain; per programme too. Every count is protected as a cell of its own and shares come from
    published counts."""
    board = Dashboard(period, filters, user)
    ev, bounds = board.evaluator, period.bounds
    programmes = list(
        db.session.execute(select(RefItem).filter_by(kind="programme").order_by(RefItem.position))
        .scalars())
    codes = FUNNEL_STEPS + FUNNEL_EXTRA
    table = [[ev.value(step, {**filters, "programme": p.code}, bounds) for step in codes]
             for p in programmes]
    waiting = [_waiting(board, filters, p.code) for p in programmes]
    totals = {code: board.protect(code, None, period, _total([row[i] for row in table]))
              for i, code in enumerate(codes)}
    table = [[board.protect(step, {"programme": p.code}, period, v) for step, v in zip(codes, row)]
             for p, row in zip(programmes, table)]
    shelter = _chain({code: totals[code] for code in FUNNEL_STEPS})
    care = (_chain({code: board.protect(code, None, period, ev.value(code, filters, bounds))
                    for code in CARE_STEPS}))
    no_place = Step("refusals_no_place", totals["refusals_no_place"],
                    step_share(totals["referrals_proposed"], totals["refusals_no_place"]))
    contacts = board.protect("contacts", None, period, ev.value("contacts", filters, bounds))
    return {"programmes": list(zip(programmes, table, waiting)), "shelter": shelter,
            "no_place": no_place,
            "care": care, "contacts": contacts,
            "weakest": weakest_step([s.share for s in shelter[1:]])}


def _chain(values):
    """Steps of one chain from {code: published count}, in order, each with its share of the
    previous one."""
    steps, before = [], None
    for code, value in values.items():
        steps.append(Step(code, value, step_share(before, value) if steps else None))
        before = value
    return steps


def step_share(before, after):
    """``after`` as a % of ``before``, from published counts; withheld (Hidden) with either of
    them."""
    for value in (before, after):
        if isinstance(value, Hidden):
            return value
    if not (is_shown(before) and is_shown(after)) or not before:
        return None
    return after / before * 100


def _total(values):
    """Sum of a step over programmes; None (not available) with a sector filter, as its parts."""
    return None if any(v is None for v in values) else sum(values)


def _waiting(board, filters, programme):
    return board._median("median_days_waiting", {**filters, "programme": programme}, board.period)


def weakest_step(shares):
    """Index (in ``shares``) of the step where the chain loses the most (lowest share), or None."""
    known = [(r, i) for i, r in enumerate(shares) if is_shown(r)]
    return min(known)[1] if known else None
