"""The plan catalogue as data: load and dump YAML or CSV, install into the database.

A document is ``{"plan": {code, title, starts_on, ends_on, is_illustrative, axes: [
{number, title, actions: [{number, title, lead_partner, operators, status,
indicators: [{code, name, definition, unit, numerator, numerator_filters,
denominator, denominator_filters, factor, baseline, direction, targets: [...]}],
status_history, milestones, budgets}]}], places, estimates}}`` (execution data:
``planexec.document``). CSV: one row per indicator (``CSV_COLUMNS``), filters as
``key=code;key=code`` and targets as ``start:end:value|...``; its ``status`` is the current one (the
dated history travels in YAML). Installing replaces the plan with the same code; an action keeps its
history unless the document gives one.
"""
import csv
import io
import os
from datetime import date

import yaml
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..cells import CsvWriter, restore
from ..errors import TooLarge, ValidationError
from ..extensions import db
from ..models import Indicator, IndicatorTarget, Plan, PlanAction, PlanAxis
from ..planexec import document as execution
from .measures import MEASURES

MAX_CHARS = 2_000_000       # the illustrative catalogue is about 30 KB
MAX_YAML_EVENTS = 200_000
MAX_INDICATORS = 2_000
SEED_FILE = os.path.join(os.path.dirname(__file__), "catalogue.yaml")
ACTION_STATUSES = ("not_started", "started", "partly_done", "done", "abandoned",
                   *execution.OLD_STATUSES)
FILTER_KEYS = ("organisation", "team", "sector", "programme", "destination", "material", "site",
               "arrondissement")
CSV_COLUMNS = ["plan_code", "plan_title", "axis_number", "axis_title", "action_number",
               "action_title",
               "lead_partner", "operators", "status", "indicator_code", "name", "definition",
               "unit",
               "numerator", "numerator_filters", "denominator", "denominator_filters", "factor",
               "baseline", "direction", "targets"]


# --- reading ----------------------------------------------------------------------

def _safe_load(stream):
    """``yaml.safe_load``, with libyaml's C parser when PyYAML has it (6x faster on the
    catalogue)."""
    if yaml.__with_libyaml__:
        return yaml.load(stream, Loader=yaml.CSafeLoader)
    return yaml.safe_load(stream)


def parse(text, filename):
    """A catalogue document from YAML or CSV text (by file extension), within the size limits
    above."""
    if len(text) > MAX_CHARS:
        raise TooLarge({"fichier": _("Fichier refusé : %(size)s caractères, %(max)s au plus.",
                                     size=len(text), max=MAX_CHARS)})
    if filename.lower().endswith(".csv"):
        document = parse_csv(text)
    else:
        document = _parse_yaml(text)
    _check_shape(document["plan"])
    return document


def _parse_yaml(text):
    try:
        _check_yaml_events(text)
        document = _safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(
            {"fichier": _("YAML illisible : %(error)s", error=str(exc)[:200])}) from None
    if not isinstance(document, dict) or not isinstance(document.get("plan"), dict):
        raise ValidationError({"fichier": _("Le fichier doit contenir une clé « plan ».")})
    return document


def _check_yaml_events(text):
    """No alias (``*name``: a few lines of them expand into billions of nodes), and a bounded number
    of nodes."""
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    for count, event in enumerate(yaml.parse(text, Loader=loader)):
        if isinstance(event, yaml.AliasEvent):
            raise ValidationError({"fichier": _("Les alias YAML (« * ») ne sont pas acceptés.")})
        if count > MAX_YAML_EVENTS:
            raise TooLarge({"fichier": _("Fichier refusé : plus de %(max)s éléments YAML.",
                                         max=MAX_YAML_EVENTS)})


def _check_shape(spec):
    """Lists of mappings where the installer expects them, and at most MAX_INDICATORS indicators."""
    count = 0
    for axis in _list(spec, "axes", _("plan")):
        for action in _list(axis, "actions", _("axe %(n)s", n=axis.get("number"))):
            count += len(_list(action, "indicators", _("action %(n)s", n=action.get("number"))))
    if count > MAX_INDICATORS:
        raise TooLarge({"fichier": _("Fichier refusé : %(n)s indicateurs, %(max)s au plus.",
                                     n=count, max=MAX_INDICATORS)})


def _list(spec, key, where):
    """``spec[key]``: a list of mappings (axes and actions with a number), else a
    ValidationError."""
    items = spec.get(key) or []
    numbered = key != "indicators"
    if not isinstance(items, list) or not all(isinstance(i, dict)
                                              and (not numbered or "number" in i)
                                             for i in items):
        _fail(where, _("« %(key)s » doit être une liste d'éléments avec leurs champs", key=key))
    return items


def parse_csv(text):
    rows = [{k: restore(v) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")),
                                      delimiter=_delimiter(text))]
    if not rows or "indicator_code" not in rows[0]:
        raise ValidationError(
            {"fichier": _("CSV sans en-tête reconnu (colonnes attendues : %(cols)s).",
                          cols=", ".join(CSV_COLUMNS))})
    plan = {"code": rows[0]["plan_code"], "title": rows[0]["plan_title"], "is_illustrative": False,
            "axes": []}
    for line, row in enumerate(rows, start=2):
        _add_csv_row(plan, row, line)
    return {"plan": plan}


def _delimiter(text):
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _add_csv_row(plan, row, line):
    axis = _find_or_add(plan["axes"], row["axis_number"],
                        {"title": row["axis_title"], "actions": []})
    action = _find_or_add(axis["actions"], row["action_number"], {
        "title": row["action_title"], "lead_partner": row.get("lead_partner") or None,
        "operators": row.get("operators") or None, "status": row.get("status") or None,
        "indicators": []})
    action["indicators"].append({
        "code": row["indicator_code"], "name": row["name"],
        "definition": row.get("definition") or "",
        "unit": row.get("unit") or "", "numerator": row["numerator"],
        "numerator_filters": _split_filters(row.get("numerator_filters"), line),
        "denominator": row.get("denominator") or None,
        "denominator_filters": _split_filters(row.get("denominator_filters"), line),
        "factor": row.get("factor") or 1, "baseline": row.get("baseline") or None,
        "direction": row.get("direction") or "higher",
        "targets": _split_targets(row.get("targets"), line), "line": line})


def _find_or_add(items, number, defaults):
    for item in items:
        if item["number"] == number:
            return item
    items.append({"number": number, **defaults})
    return items[-1]


def _split_filters(text, line):
    result = {}
    for part in filter(None, (text or "").split(";")):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValidationError({"fichier": _("Ligne %(line)s : filtre « %(part)s » sans « = ».",
                                                line=line, part=part)})
        result[key.strip()] = value.strip()
    return result


def _split_targets(text, line):
    targets = []
    for part in filter(None, (text or "").split("|")):
        bits = part.split(":")
        if len(bits) != 3:
            raise ValidationError(
                {"fichier": _("Ligne %(line)s : cible « %(part)s » attendue début:fin:valeur.",
                              line=line, part=part)})
        targets.append({"starts_on": bits[0], "ends_on": bits[1], "value": bits[2]})
    return targets


# --- checking ---------------------------------------------------------------------

def _fail(where, message):
    raise ValidationError({"fichier": _("%(f)s : %(m)s", f=where, m=message)})


def _date(value, where):
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _fail(where, _("date « %(value)s » invalide (AAAA-MM-JJ)", value=value))


def _number(value, where, cast=float):
    if value is None or value == "":
        return None
    try:
        return cast(value)
    except (TypeError, ValueError):
        _fail(where, _("nombre « %(value)s » invalide", value=value))


def _check_indicator(spec, where):
    for key in ("code", "name", "numerator"):
        if not spec.get(key):
            _fail(where, _("champ « %(field)s » manquant", field=key))
    for key in ("numerator", "denominator"):
        if spec.get(key) and spec[key] not in MEASURES:
            _fail(where, _("mesure « %(measure)s » inconnue", measure=spec[key]))
    for key in ("numerator_filters", "denominator_filters"):
        unknown = set(spec.get(key) or {}) - set(FILTER_KEYS)
        if unknown:
            _fail(where, _("filtre « %(name)s » inconnu", name=min(unknown)))
    if (spec.get("direction") or "higher") not in ("higher", "lower"):
        _fail(where, _("sens « %(value)s » invalide (higher ou lower)", value=spec["direction"]))


# --- installing -------------------------------------------------------------------

def import_plan(document, user=None, source=""):
    """Install the document's plan (see ``install_plan``) and audit it where every organisation's
    admin sees it, with what it replaced; no commit. The web page and the import-plan command go
    through here."""
    code = document["plan"].get("code")
    old = (db.session.execute(db.select(Plan).filter_by(code=code)).scalar_one_or_none() if code
           else None)
    before = _summary(old) if old is not None else None
    plan = install_plan(document, user)
    added = _registers(document["plan"], user)
    after = _summary(plan)
    audit.record("plan_imported", actor=user, target=plan, before=before, after=after,
                 details={"code": plan.code, "title": plan.title, "source": source[:200],
                          "places_added": added[0], "estimates_added": added[1]})
    return plan


def _registers(spec, user):
    try:
        return execution.install_registers(spec, user)
    except execution.Failed as exc:
        raise ValidationError({"fichier": str(exc)}) from None


def _summary(plan):
    actions = [a for axis in plan.axes for a in axis.actions]
    counts = [db.session.execute(db.select(db.func.count()).select_from(model).where(
        model.action_id.in_([a.id for a in actions]))).scalar()
              for model in execution.ACTION_MODELS]
    return (f"{plan.code}: {len(plan.axes)} axes, {len(actions)} actions, "
            f"{sum(len(a.indicators) for a in actions)} indicators, {counts[0]} statuses, "
            f"{counts[1]} milestones, "
            f"{counts[2]} budget lines")


def install_plan(document, user=None):
    """Replace the plan with the document's code by the document's content; returns the Plan (no
    commit)."""
    spec = document["plan"]
    if not spec.get("code") or not spec.get("title"):
        _fail(_("plan"), _("code et titre obligatoires"))
    old = db.session.execute(db.select(Plan).filter_by(code=spec["code"])).scalar_one_or_none()
    kept = execution.snapshot(old)
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    plan = Plan(code=spec["code"], title=spec["title"],
                starts_on=_date(spec.get("starts_on"), "plan"),
                ends_on=_date(spec.get("ends_on"), "plan"),
                is_illustrative=bool(spec.get("is_illustrative")))
    seen = set()
    plan.axes = [_axis(a, i, seen) for i, a in enumerate(spec.get("axes") or [])]
    db.session.add(plan)
    db.session.flush()
    _install_execution(plan, spec, kept, user)
    return plan


def _install_execution(plan, spec, kept, user):
    """Each action's status history, milestones and budget lines (``planexec.document``)."""
    from ..planexec.card import today
    specs = {str(a["number"]): a for axis in spec.get("axes") or [] for a in axis.get("actions")
             or []}
    try:
        for axis in plan.axes:
            for action in axis.actions:
                execution.install_action(action, specs.get(action.number, {}),
                                         kept.get(action.number), user, plan.starts_on or today())
        db.session.flush()
    except execution.Failed as exc:
        raise ValidationError({"fichier": str(exc)}) from None


def _axis(spec, position, seen):
    axis = PlanAxis(number=str(spec["number"]), title=spec.get("title") or "", position=position)
    axis.actions = [_action(a, i, seen) for i, a in enumerate(spec.get("actions") or [])]
    return axis


def _action(spec, position, seen):
    status = spec.get("status")
    if status is not None and status not in ACTION_STATUSES:
        _fail(_("action %(n)s", n=spec.get("number")),
              _("statut « %(value)s » invalide", value=status))
    action = PlanAction(number=str(spec["number"]), title=spec.get("title") or "",
                        lead_partner=spec.get("lead_partner"), operators=spec.get("operators"),
                        position=position)
    action.indicators = [_indicator(s, i, seen) for i, s in enumerate(spec.get("indicators") or [])]
    return action


def _indicator(spec, position, seen):
    where = _l("ligne %(line)s", line=spec["line"]) if spec.get("line") else _l(
        "indicateur %(code)s", code=spec.get("code") or position + 1)
    _check_indicator(spec, where)
    if spec["code"] in seen:
        _fail(where, _("code « %(code)s » en double", code=spec["code"]))
    seen.add(spec["code"])
    indicator = Indicator(
        code=spec["code"], name=spec["name"], definition=spec.get("definition") or "",
        unit=spec.get("unit") or "",
        numerator=spec["numerator"], numerator_filters=dict(spec.get("numerator_filters") or {}),
        denominator=spec.get("denominator") or None,
        denominator_filters=dict(spec.get("denominator_filters") or {}),
        factor=_number(spec.get("factor"), where, int) or 1,
        baseline=_number(spec.get("baseline"), where),
        direction=spec.get("direction") or "higher", position=position)
    indicator.targets = [
        IndicatorTarget(starts_on=_date(t["starts_on"], where), ends_on=_date(t["ends_on"], where),
                        value=_number(t["value"], where)) for t in spec.get("targets") or []]
    return indicator


def install_seed():
    """Install the illustrative catalogue unless a plan already exists."""
    if db.session.execute(db.select(Plan.id)).first():
        return None
    with open(SEED_FILE, encoding="utf-8") as handle:
        return install_plan(_safe_load(handle))


# --- writing ----------------------------------------------------------------------

def current_plan(*options):
    """The latest plan (``options``: loader options, e.g. its axes and indicators)."""
    return db.session.execute(db.select(Plan).order_by(Plan.id.desc()).limit(1)
                              .options(*options)).scalars().first()


def dump(plan):
    return {"plan": {
        "code": plan.code, "title": plan.title, "starts_on": plan.starts_on,
        "ends_on": plan.ends_on, "is_illustrative": plan.is_illustrative,
        "axes": [
            {"number": a.number, "title": a.title, "actions": [_dump_action(x) for x in a.actions]}
            for a in plan.axes], **execution.dump_registers()}}


def _dump_action(action):
    return {"number": action.number, "title": action.title, "lead_partner": action.lead_partner,
            "operators": action.operators, "status": action.current_status,
            "indicators": [_dump_indicator(i) for i in action.indicators],
            **execution.dump_action(action)}


def _dump_indicator(ind):
    return {"code": ind.code, "name": ind.name, "definition": ind.definition, "unit": ind.unit,
            "numerator": ind.numerator, "numerator_filters": dict(ind.numerator_filters or {}),
            "denominator": ind.denominator,
            "denominator_filters": dict(ind.denominator_filters or {}),
            "factor": ind.factor, "baseline": ind.baseline, "direction": ind.direction,
            "targets": [{"starts_on": t.starts_on, "ends_on": t.ends_on, "value": t.value}
                        for t in ind.targets]}


def to_yaml(plan):
    return yaml.safe_dump(dump(plan), allow_unicode=True, sort_keys=False)


def to_csv(plan):
    out = io.StringIO()
    writer = CsvWriter(out, ";")
    writer.writerow(CSV_COLUMNS)
    for axis in plan.axes:
        for action in axis.actions:
            for ind in action.indicators:
                row = _csv_row(plan, axis, action, _dump_indicator(ind))
                writer.writerow([row[c] for c in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


def _csv_row(plan, axis, action, ind):
    join = ";".join
    return {"plan_code": plan.code, "plan_title": plan.title, "axis_number": axis.number,
            "axis_title": axis.title,
            "action_number": action.number, "action_title": action.title,
            "lead_partner": action.lead_partner or "",
            "operators": action.operators or "", "status": action.current_status,
            "indicator_code": ind["code"],
            "name": ind["name"], "definition": ind["definition"], "unit": ind["unit"],
            "numerator": ind["numerator"],
            "numerator_filters": join(f"{k}={v}" for k, v in ind["numerator_filters"].items()),
            "denominator": ind["denominator"] or "",
            "denominator_filters": join(f"{k}={v}" for k, v in ind["denominator_filters"].items()),
            "factor": ind["factor"], "baseline": "" if ind["baseline"] is None else ind["baseline"],
            "direction": ind["direction"],
            "targets": "|".join(f"{t['starts_on']}:{t['ends_on']}:{t['value']:g}"
                                for t in ind["targets"])}
