"""Plan execution in the plan catalogue's document (``indicators.catalogue``): dump and install.

Per action: ``status_history`` [{status, effective_on, reason, evidence}], ``milestones`` [{title,
created_on, due_on, done_on}], ``budgets`` [{funder, year, planned, committed, spent}] (euros). Per
plan: ``places`` [{programme, organisation, starts_on, places, note}] and ``estimates``
[{estimated_on, area, low, high, source}].

Every value goes through the same parsers as the pages (``services``), so a file says what a page
would refuse. Installing replaces the plan, so an action whose document has none of these keys keeps
the history it had (an indicators-only file, such as the CSV, never wipes statuses, milestones or
budgets). Places and estimates are not the plan's: a row is added when it is not there yet, so
importing the same file twice adds nothing.

Who recorded a status is not in the file (supervisors download it: no e-mail addresses leave through
it). On import, a status the action already had keeps its recorder; a new one is the importer's; an
older file's ``recorded_by`` (an e-mail address) is still read.
"""
from flask_babel import gettext as _

from ..errors import ValidationError
from ..extensions import db
from ..models import (
    ActionMilestone,
    ActionStatusChange,
    BudgetLine,
    Funder,
    Organisation,
    PlaceCapacity,
    PopulationEstimate,
    RefItem,
    User,
)
from . import services

ACTION_KEYS = ("status_history", "milestones", "budgets")
ACTION_MODELS = (ActionStatusChange, ActionMilestone, BudgetLine)
# The catalogue's words before the dated history (migration 0013 maps them the same way).
OLD_STATUSES = {"planned": "not_started", "in_progress": "started", "delayed": "started"}


class Failed(Exception):
    """A value refused while installing: ``where`` + the parser's message."""


# --- dump ----------------------------------------------------------------------------

def _day(value):
    return value.isoformat() if value else None


def _euros(cents):
    return cents / 100


def dump_action(action, recorders=False):
    """The action's execution data as the file holds it; ``recorders``: with each status's recorder
    id (only for ``snapshot``, never written to a file)."""
    changes = db.session.execute(db.select(ActionStatusChange).filter_by(action_id=action.id)
                                 .order_by(ActionStatusChange.effective_on,
                                           ActionStatusChange.id)).scalars()
    milestones = db.session.execute(db.select(ActionMilestone).filter_by(action_id=action.id)
                                    .order_by(ActionMilestone.due_on, ActionMilestone.id)).scalars()
    lines = db.session.execute(db.select(BudgetLine).filter_by(action_id=action.id)
                               .order_by(BudgetLine.year, BudgetLine.funder_id)).scalars()
    return {
        "status_history": [
            {"status": c.status, "effective_on": _day(c.effective_on), "reason": c.reason,
             "evidence": c.evidence, **({RECORDER: c.recorded_by_id} if recorders else {})}
            for c in changes],
        "milestones": [
            {"title": m.title, "created_on": _day(m.created_on), "due_on": _day(m.due_on),
             "done_on": _day(m.done_on)} for m in milestones],
        "budgets": [{"funder": b.funder.code, "year": b.year, "planned": _euros(b.planned_cents),
                     "committed": _euros(b.committed_cents), "spent": _euros(b.spent_cents)}
                    for b in lines]}


def dump_registers():
    places = db.session.execute(
        db.select(PlaceCapacity).order_by(PlaceCapacity.starts_on, PlaceCapacity.id)).scalars()
    estimates = db.session.execute(db.select(PopulationEstimate)
                                   .order_by(PopulationEstimate.estimated_on,
                                             PopulationEstimate.id)).scalars()
    return {"places": [{"programme": p.programme.code, "organisation": p.organisation.code,
                        "starts_on": _day(p.starts_on), "places": p.places, "note": p.note}
                       for p in places],
            "estimates": [
                {"estimated_on": _day(e.estimated_on), "area": e.area, "low": e.low, "high": e.high,
                 "source": e.source} for e in estimates]}


# --- install -------------------------------------------------------------------------

def snapshot(plan):
    """{action number: its execution data} of the plan about to be replaced."""
    if plan is None:
        return {}
    return {action.number: dump_action(action, recorders=True) for axis in plan.axes
            for action in axis.actions}


RECORDER = object()  # the snapshot's key for a status's recorder id: no file's key can be it


def install_action(action, spec, kept, user, default_day):
    """The action's history from its document, else from what it had (``kept``); an old-style
    ``status`` alone (the CSV's column, an older file) starts a history when there is none."""
    data = {key: spec[key] if key in spec else (kept or {}).get(key, []) for key in ACTION_KEYS}
    where = _("action %(n)s", n=action.number)
    history = _items(data, "status_history", where) or _status_alone(spec.get("status"))
    recorders = {_same(item): item[RECORDER] for item in (kept or {}).get("status_history", [])}
    for item in history:
        _status(action, item, user, where, default_day, recorders)
    for item in _items(data, "milestones", where):
        _milestone(action, item, where)
    for item in _items(data, "budgets", where):
        _budget(action, item, where)


def _items(data, key, where):
    """``data[key]``: a list of mappings, else Failed (a file's shape is checked before its
    values)."""
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Failed(
            _("%(w)s : « %(k)s » doit être une liste d'éléments avec leurs champs", w=where, k=key))
    return items


def _status_alone(status):
    if OLD_STATUSES.get(status, status) in (None, "", "not_started"):
        return []
    return [{"status": status, "reason": _("Statut repris du catalogue importé")}]


def _checked(where, parse):
    try:
        return parse()
    except ValidationError as exc:
        raise Failed(f"{where} : {' '.join(map(str, exc.errors.values()))}") from None


def _user(email, user):
    if email:
        found = db.session.execute(db.select(User).filter_by(email=str(email))).scalar_one_or_none()
        if found is not None:
            return found
    return user


def _same(item):
    """What makes two status rows the same status (its recorder aside)."""
    return tuple(str(item.get(k) or "") for k in ("status", "effective_on", "reason", "evidence"))


def _status(action, item, user, where, default_day, recorders):
    status = OLD_STATUSES.get(item.get("status"), item.get("status"))
    if status not in services.ACTION_STATUSES:
        raise Failed(_("%(w)s : statut « %(s)s » inconnu", w=where, s=item.get("status")))
    day = item.get("effective_on") or default_day
    effective_on = _checked(where,
                            lambda: services.parse_date(day, "effective_on", _("Date d'effet")))
    reason = _checked(where, lambda: services.parse_text(item.get("reason"), "reason", _("Motif")))
    evidence = _checked(
        where, lambda: services.parse_text(item.get("evidence"), "evidence", _("Élément de preuve"),
                                           required=False))
    same = (status, effective_on.isoformat(), reason or "", evidence or "")
    if same in recorders:
        recorder_id = recorders[same]
    else:
        recorder = _user(item.get("recorded_by"), user)
        recorder_id = recorder.id if recorder else None
    db.session.add(
        ActionStatusChange(action=action, status=status, effective_on=effective_on, reason=reason,
                           evidence=evidence, recorded_by_id=recorder_id))


def _milestone(action, item, where):
    title = _checked(
        where, lambda: services.parse_text(item.get("title"), "title", _("Jalon"), maximum=200))
    created_on, due_on = (
        _checked(where, lambda k=k, label=label: services.parse_date(item.get(k), k, label))
        for k, label in (("created_on", _("Date de création")), ("due_on", _("Échéance"))))
    done_on = _checked(where, lambda: services.parse_date(item["done_on"], "done_on",
                                                          _("Date de réalisation"))) \
        if item.get("done_on") else None
    if due_on < created_on or (done_on is not None and done_on < created_on):
        raise Failed(_("%(w)s : jalon « %(t)s » : une date précède sa création.", w=where, t=title))
    db.session.add(ActionMilestone(action=action, title=title, created_on=created_on, due_on=due_on,
                                   done_on=done_on))


def _budget(action, item, where):
    funder = db.session.execute(
        db.select(Funder).filter_by(code=str(item.get("funder") or ""))).scalar_one_or_none()
    if funder is None:
        raise Failed(_("%(w)s : financeur « %(f)s » inconnu", w=where, f=item.get("funder")))
    labels = services.amount_labels()
    year = _checked(where, lambda: services._parse_year(item.get("year")))
    cents = [_checked(where, lambda n=name: services.parse_amount(_text(item.get(n)), n, labels[n]))
             for name, _c in services.AMOUNT_FIELDS]
    if any(b.funder_id == funder.id and b.year == year for b in _pending_lines(action)):
        raise Failed(_("%(w)s : deux lignes pour %(f)s en %(y)s", w=where, f=funder.code, y=year))
    db.session.add(BudgetLine(action=action, funder=funder, year=year, planned_cents=cents[0],
                              committed_cents=cents[1], spent_cents=cents[2]))


def _pending_lines(action):
    return [o for o in db.session.new if isinstance(o, BudgetLine) and o.action is action]


def _text(value):
    """A YAML number (1234.5) as the text the page's parser reads; text as written."""
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def install_registers(spec, user):
    """Add the document's places and estimates that are not there yet; returns (places added,
    estimates added)."""
    added = [0, 0]
    for item in _items(spec, "places", _("plan")):
        added[0] += _place(item, user)
    for item in _items(spec, "estimates", _("plan")):
        added[1] += _estimate(item, user)
    return tuple(added)


def _place(item, user):
    where = _("places %(p)s / %(o)s", p=item.get("programme"), o=item.get("organisation"))
    programme = db.session.execute(
        db.select(RefItem).filter_by(kind="programme", code=str(item.get("programme"))
                                     )).scalar_one_or_none()
    operator = db.session.execute(
        db.select(Organisation).filter_by(code=str(item.get("organisation")))
        ).scalar_one_or_none()
    if programme is None or operator is None:
        raise Failed(_("%(w)s : programme ou organisation inconnu", w=where))
    starts_on = _checked(
        where, lambda: services.parse_date(item.get("starts_on"), "starts_on", _("Date d'effet")))
    places = _checked(
        where, lambda: services.parse_count(item.get("places"), "places", _("Le nombre de places")))
    note = _checked(where,
                    lambda: services.parse_text(item.get("note"), "note", _("Note"), required=False,
                                                maximum=300))
    if db.session.execute(db.select(PlaceCapacity.id).filter_by(
            programme_id=programme.id, organisation_id=operator.id, starts_on=starts_on,
            places=places)).first():
        return 0
    recorder = _recorder(user, where)
    db.session.add(PlaceCapacity(programme=programme, organisation=operator, starts_on=starts_on,
                                 places=places, note=note, recorded_by_id=recorder.id))
    db.session.flush()
    return 1


def _estimate(item, user):
    where = _("estimation %(a)s", a=item.get("area"))
    on = _checked(where,
                  lambda: services.parse_date(item.get("estimated_on"), "estimated_on", _("Date")))
    area = _checked(
        where, lambda: services.parse_text(item.get("area"), "area", _("Territoire"), maximum=120))
    source = _checked(
        where, lambda: services.parse_text(item.get("source"), "source", _("Source"), maximum=300))
    low = _checked(where,
                   lambda: services.parse_count(item.get("low"), "low", _("L'estimation basse"),
                                                maximum=10**7))
    high = _checked(
        where, lambda: services.parse_count(item.get("high", low), "high", _("L'estimation haute"),
                                            maximum=10**7))
    if low == 0 or high < low:
        raise Failed(_("%(w)s : fourchette invalide", w=where))
    if db.session.execute(
            db.select(PopulationEstimate.id).filter_by(estimated_on=on, area=area, low=low,
                                                       high=high)).first():
        return 0
    recorder = _recorder(user, where)
    db.session.add(PopulationEstimate(estimated_on=on, area=area, low=low, high=high, source=source,
                                      recorded_by_id=recorder.id))
    db.session.flush()
    return 1


def _recorder(user, where):
    if user is None:
        raise Failed(
            _("%(w)s : importez ce fichier depuis la page du catalogue (un compte signe chaque "
                "ajout).",
              w=where))
    return user
