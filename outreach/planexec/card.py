"""The plan's report card for a period: per axis and action, status, late milestones and budget;
places and occupancy per programme; stays, exits and returns; coverage. Person-derived figures are
protected here."""
import datetime as dt
from collections import namedtuple
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .. import queryargs
from ..errors import ValidationError
from ..extensions import db
from ..indicators import catalogue  # the module, read at call time (it imports this package)
from ..indicators.suppression import Hidden
from ..labels import ACTION_STATUS
from ..models import Indicator, PlaceCapacity, PlanAction, PlanAxis, RefItem
from ..reference.defaults import NO_PLACE_REFUSAL, STABLE_HOUSING_EXIT
from . import measures
from .measures import Period
from .protection import protect_count, protect_persons
from .rollup import RolledFacts

STATUS_LABELS = ACTION_STATUS  # one home for the words: ``labels``
ENGAGED = ("started", "partly_done", "done")
# What each figure means: shown under its table on the page and in the XLSX's definitions sheet.
DEFINITIONS = {
    "status": _l(
        "Statut d'une action à une date : le dernier statut daté d'avant ou du jour même ; sans "
        "statut, l'action est non démarrée. « Engagées » : démarrées, réalisées en partie ou "
        "réalisées."),
    "places": _l(
        "Définitions. Une nuitée appartient au jour où elle commence ; un séjour occupe les nuits"
        " de son admission à la veille de sa sortie, un séjour encore ouvert jusqu'à la fin de la"
        " période. Places d'un jour : dernière capacité saisie à une date antérieure ou égale, "
        "additionnée sur les organisations gestionnaires. Taux d'occupation = nuitées occupées ÷ "
        "nuitées-places. Durée de séjour = sortie − admission, en jours, pour les séjours "
        "terminés dans la période ; séjours en cours à part."),
    "returns": _l(
        "Retour à la rue : une sortie de la période suivie d'une rencontre en maraude du même "
        "code pseudonyme dans les 6 (12) mois, et au plus tard à la fin de la période ; publié en"
        " effectifs seulement. Les effectifs de personnes, nuitées, séjours et sorties sont "
        "protégés (petits effectifs masqués) ; places, statuts et budgets ne le sont pas."),
    "budget": _l(
        "Prévu : engagement initial ; engagé : crédits engagés ; payé : mandaté / payé. Montants "
        "saisis par les pilotes du plan, non protégés (ce ne sont pas des données de personnes). "
        "Sur le tableau de bord du plan : les années civiles qui recoupent la période choisie ; "
        "coût par nuitée-place = payé sur ces années ÷ nuitées-places des programmes de l'action "
        "sur ces mêmes années."),
    "coverage": _l(
        "Définition : la file active du tableau de bord (personnes distinctes, par leur code "
        "pseudonyme, rencontrées lors de maraudes validées dans les 12 mois qui finissent avec le"
        " mois de la date choisie), divisée par la dernière estimation de population datée "
        "d'avant ; une fourchette d'estimation donne une fourchette de couverture. Les passages "
        "anonymes n'y entrent jamais ; les petits effectifs sont protégés."),
}


@dataclass
class ActionCard:
    action: object
    status: str
    status_change: object
    late: list
    budget: list  # planned, committed, spent (cents)
    programme_ids: list
    # euros spent / place-nights of the action's programmes
    cost_per_place_night: float | None = None


@dataclass
class AxisCard:
    axis: object
    actions: list
    counts: dict
    budget: list = field(default_factory=lambda: [0, 0, 0])


PlanOutline = namedtuple("PlanOutline", "id title axes")
AxisOutline = namedtuple("AxisOutline", "id number title actions")
ActionOutline = namedtuple("ActionOutline", "id number title indicators")
IndicatorFilters = namedtuple("IndicatorFilters", "numerator_filters denominator_filters")


def plan_outline():
    """What the report card shows of the current plan: its title, axes and actions in their order,
    and its indicators' filters (the programmes each action is about), in two plain reads; the ORM
    graph of ``indicators.services.load_plan``, with the targets, took 4.5 ms of the card's CPU
    against 0.5 at 1M contacts."""
    plan = catalogue.current_plan()
    if plan is None:
        return None
    conn, ax, ac = db.session.connection(), PlanAxis, PlanAction
    rows = conn.execute(
        db.select(ax.id, ax.number, ax.title, ac.id, ac.number, ac.title)
        .outerjoin(ac, ac.axis_id == ax.id).where(ax.plan_id == plan.id)
        .order_by(ax.position, ax.id, ac.position, ac.id)).all()
    filters = {}
    for action_id, numerator, denominator in conn.execute(
            db.select(Indicator.action_id, Indicator.numerator_filters,
                      Indicator.denominator_filters)
            .join(ac, ac.id == Indicator.action_id).join(ax, ax.id == ac.axis_id)
            .where(ax.plan_id == plan.id).order_by(Indicator.position, Indicator.id)):
        filters.setdefault(action_id, []).append(IndicatorFilters(numerator, denominator))
    axes = {}
    for axis_id, number, title, action_id, action_number, action_title in rows:
        axis = axes.setdefault(axis_id, AxisOutline(axis_id, number, title, []))
        if action_id is not None:
            axis.actions.append(ActionOutline(action_id, action_number, action_title,
                                              filters.get(action_id, [])))
    return PlanOutline(plan.id, plan.title, list(axes.values()))


def parse_period(args, today):
    """``from``/``to`` (default: the 12 months ending today), read by the one query-argument parser
    (``queryargs.parse_day``: ``YYYY-MM-DD``, or ``YYYY-MM`` for a month's first or last day);
    ValidationError naming the field."""
    first = queryargs.parse_day(args["from"], "from") if args.get("from") else None
    last = queryargs.parse_day(args["to"], "to", last=True) if args.get("to") else today
    first = first or measures.shift_months(last, -12) + measures.ONE_DAY
    if first > last:
        raise ValidationError({"from": str(_l("Début de période : il doit précéder la fin."))})
    if last.year - first.year > 10:
        raise ValidationError({"from": str(_l("Début de période : dix ans au plus."))})
    return Period(first, last)


def action_programmes(action, codes_to_ids):
    """Programmes an action is about, read from its indicators' filters (the catalogue is the
    data)."""
    codes = set()
    for indicator in action.indicators:
        for filters in (indicator.numerator_filters or {}, indicator.denominator_filters or {}):
            value = filters.get("programme")
            codes.update([value] if isinstance(value, str) else value or [])
    return sorted(codes_to_ids[c] for c in codes if c in codes_to_ids)


def progress(plan, day):
    """Axis cards with statuses and late milestones as of ``day`` (no budget)."""
    statuses, late = measures.statuses_on(day), measures.late_milestones(day)
    axes = []
    for axis in plan.axes:
        cards = [ActionCard(a, statuses[a.id].status if a.id in statuses else "not_started",
                            statuses.get(a.id),
                            late.get(a.id, []), [0, 0, 0], []) for a in axis.actions]
        axes.append(AxisCard(axis, cards, measures.status_counts(axis.actions, statuses)))
    return axes


def total_counts(axes):
    total = {s: 0 for s in STATUS_LABELS}
    for axis in axes:
        for status, n in axis.counts.items():
            total[status] += n
    return total


def report_card(period):
    plan = plan_outline()
    if plan is None:
        return None
    programmes = all_programmes()
    codes_to_ids = {p.code: p.id for p in programmes}
    axes = progress(plan, period.last)
    lines = measures.budget_lines(period.first.year, period.last.year)
    by_action = measures.budget_totals(lines, lambda line: line.action_id)
    years = Period(dt.date(period.first.year, 1, 1), dt.date(period.last.year, 12, 31))
    steps = measures.capacity_steps([p.id for p in programmes], years.last)
    for axis in axes:
        for card in axis.actions:
            card.budget = by_action.get(card.action.id, [0, 0, 0])
            card.programme_ids = action_programmes(card.action, codes_to_ids)
            card.cost_per_place_night = cost_per_place_night(card, steps, years)
            axis.budget = [x + y for x, y in zip(axis.budget, card.budget, strict=True)]
    places = places_section(programmes, period, steps=steps)
    return {"plan": plan, "period": period, "axes": axes, "counts": total_counts(axes),
            "engaged": sum(total_counts(axes)[s] for s in ENGAGED),
            "actions": sum(len(a.actions) for a in axes),
            "budget": budget_section(lines), "places": places,
            "places_by_id": {p["programme"].id: p for p in places},
            "coverage": coverage(period.last)}


def all_programmes():
    return db.session.execute(db.select(RefItem).filter_by(kind="programme")
                              .order_by(RefItem.position, RefItem.id)).scalars().all()


def cost_per_place_night(card, steps, years):
    """Euros spent on the action over whole ``years`` / place-nights of its programmes over the same
    years."""
    nights = sum(measures.place_nights(steps.get(pid, []), years) for pid in card.programme_ids)
    return card.budget[2] / 100 / nights if nights and card.budget[2] else None


def budget_section(lines):
    by_funder = measures.budget_totals(lines, lambda line: line.funder)
    by_year = measures.budget_totals(lines, lambda line: line.year)
    total = [sum(t[i] for t in by_funder.values()) for i in range(3)]
    return {"by_funder": sorted(by_funder.items(), key=lambda kv: kv[0].position),
            "by_year": sorted(by_year.items()), "total": total}


def places_section(programmes, period, facts=RolledFacts, steps=None):
    """Per programme with a capacity or a stay: months, stays, exits, returns (person figures
    protected), read for every programme at once from the report card's roll-ups
    (``rollup.RolledFacts``; ``measures.Facts`` reads the same figures from the referral rows).
    ``steps``: the capacity steps up to the period's end or later (the card's, read up to the end
    of its last year, give the same places on every day of the period)."""
    ids = [p.id for p in programmes]
    facts = facts(ids, period)
    if steps is None:
        steps = measures.capacity_steps(ids, period.last)
    registered = set(db.session.execute(db.select(PlaceCapacity.programme_id).distinct()).scalars())
    reasons = {r.id: r for r in db.session.execute(db.select(RefItem).where(
        RefItem.kind.in_(("exit_reason", "refusal_reason")))).scalars()}
    no_place = (next((r.id for r in reasons.values() if r.kind == "refusal_reason"
                      and r.code == NO_PLACE_REFUSAL), None))
    sections = []
    for programme in programmes:
        months, used_total = facts.occupancy(programme.id, steps.get(programme.id, []))
        if programme.id not in registered and not used_total:
            continue
        sections.append(
            _programme_section(programme, facts, months, used_total, steps.get(programme.id, []),
                               reasons, no_place))
    return sections


def _programme_section(programme, facts, months, used_total, steps, reasons, no_place):
    period, pid = facts.period, programme.id
    rows = [_month_row(month, place_n, used, steps) for month, place_n, used in months]
    place_total = sum(p for _m, p, _u in months)
    stays = facts.length_of_stay(pid)
    exits = facts.exits_by_reason(pid)
    returns = facts.returns_to_street(pid)
    completed = protect_count(stays["completed"], "completed")
    stable = measures.disjoint_sum(n for rid, n in exits.items()
                                   if rid in reasons and reasons[rid].code == STABLE_HOUSING_EXIT)
    person_nights = protect_count(used_total, "person_nights")
    return {
        "programme": programme, "label": programme.display_label,  # read once for the page's rows
        "months": rows,
        "has_stays": bool(used_total or stays["completed"] or stays["open"] or exits),
        "places_end": measures.places_on(steps, period.last),
        "place_nights": place_total, "person_nights": person_nights,
        "rate": rate(person_nights, place_total),
        "completed": completed, "median": None if _hidden(completed) else stays["median"],
        "buckets": [protect_count(n, f"stay_length.{i}") for i, n in enumerate(stays["buckets"])],
        "open": protect_count(stays["open"], "open_stays"),
        "open_median": None if _hidden(protect_count(stays["open"],
                                                     "open_stays")) else stays["open_median"],
        "exits": [(reasons.get(rid), protect_count(n, "exits"))
                  for rid, n in sorted(exits.items(), key=lambda kv: -kv[1])],
        "exits_stable": protect_count(stable, "exits"),
        "returns": {k: protect_count(v, "exits" if k == "exits" else f"returns.{k}")
                    for k, v in returns.items()},
        "refusals_no_place": protect_count(facts.refusals(pid, no_place), "refusals")
        if no_place else None,
    }


def _month_row(month, place_n, used, steps):
    used = protect_count(used, "person_nights")
    return {"month": month.first, "places": measures.places_on(steps, month.last),
            "place_nights": place_n, "person_nights": used, "rate": rate(used, place_n)}


def _hidden(value):
    return isinstance(value, Hidden)


def rate(used, available):
    """A share in percent, None when a side is missing or protected."""
    if _hidden(used) or used is None or not available:
        return None
    return 100.0 * used / available


def coverage(day):
    """Distinct persons met over the 12 months ending ``day`` against the latest estimate, as a
    range."""
    estimate = measures.estimate_on(day)
    persons = protect_persons(measures.persons_met(day), measures.month_start(day))
    if estimate is None or _hidden(persons):
        return {"estimate": estimate, "persons": persons, "low": None, "high": None}
    return {"estimate": estimate, "persons": persons,
            "low": 100.0 * persons / estimate.high, "high": 100.0 * persons / estimate.low}


def today():
    from ..referrals.services import today as local_today
    return local_today()

