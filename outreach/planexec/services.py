"""Plan-execution edits: capacity, action statuses and milestones, budget lines, population
estimates.

Every input arrives as text (form, future import) and is parsed here, so each rule has one home; a
bad value raises ``ValidationError`` naming the field in French and nothing is written. Nothing
commits; every change is appended to the audit log.
"""
import csv
import datetime as dt
import io
import re

from flask_babel import gettext as _
from sqlalchemy import or_

from .. import audit
from ..access import is_plan_level, scoped
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..models import (
    ACTION_STATUSES,
    ActionMilestone,
    ActionStatusChange,
    BudgetLine,
    Funder,
    Organisation,
    PlaceCapacity,
    PlanAction,
    PopulationEstimate,
    Referral,
    RefItem,
)

TEXT_MAX = 500
MAX_PLACES = 100_000
MAX_CENTS = 10**13  # 100 billion euros: anything above is a typing error
YEARS = (2000, 2100)


# --- who -----------------------------------------------------------------------------

def require_plan_level(user):
    """Statuses, milestones, budgets and estimates are the plan's, shared by every organisation:
    plan managers and instance admins change them, never one organisation's admin
    (``access.plan_level``). Places are apart: an organisation's admin enters its own
    (``operator_choices``)."""
    if not is_plan_level(user):
        raise Forbidden(_(
            "Seuls les pilotes du plan et les administrateurs de l'instance modifient le plan, ses "
            "budgets et ses estimations."))


# --- parsing -----------------------------------------------------------------------

def parse_date(value, field, label):
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(
            {field: _("%(label)s : date invalide (AAAA-MM-JJ).", label=label)}) from None


def parse_count(value, field, label, maximum=MAX_PLACES):
    text = str(value if value is not None
               else "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if re.fullmatch(r"-\d+", text):
        raise ValidationError(
            {field: _("%(label)s : la valeur ne peut pas être négative.", label=label)})
    if not re.fullmatch(r"\d+", text):
        raise ValidationError({field: _("%(label)s : entrez un nombre entier.", label=label)})
    number = int(text)
    if number > maximum:
        raise ValidationError({field: _("%(label)s : valeur trop grande.", label=label)})
    return number


AMOUNT = re.compile(r"(?P<sign>-)?(?P<units>\d{1,3}(?: \d{3})+|\d+)(?:[,.](?P<cents>\d{1,2}))?(?: "
                    r"?€)?")


def parse_amount(value, field, label):
    """Euros as written in French ("1 234,50 €", "1234.5", "0") -> whole cents.

    Spaces (also no-break) group thousands, a comma or a dot marks at most two decimals, "€" may end
    it. Anything else ("1.234,50", "12,345", "1e6", "abc") is refused rather than guessed."""
    text = re.sub(r"[\s\u202f\xa0]+", " ", str(value if value is not None else "")).strip()
    if text == "":
        return 0
    match = AMOUNT.fullmatch(text)
    if match is None:
        raise ValidationError(
            {field: _("%(label)s : montant illisible ; écrivez par exemple 1 234,50 €.",
                      label=label)})
    if match["sign"]:
        raise ValidationError({field: _("%(label)s ne peut pas être négatif.", label=label)})
    cents = int(match["units"].replace(" ", "")) * 100 + int((match["cents"] or "0").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise ValidationError({field: _("%(label)s : montant trop grand.", label=label)})
    return cents


def parse_text(value, field, label, required=True, maximum=TEXT_MAX):
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("%(label)s : champ obligatoire.", label=label)})
    if len(text) > maximum:
        raise ValidationError(
            {field: _("%(label)s : %(n)s caractères au plus.", label=label, n=maximum)})
    return text


def _first_error(*checks):
    """Run every check, raise all their messages together (the user fixes everything at once)."""
    errors, values = {}, []
    for check in checks:
        try:
            values.append(check())
        except ValidationError as exc:
            errors.update(exc.errors)
            values.append(None)
    if errors:
        raise ValidationError(errors)
    return values


# --- places ------------------------------------------------------------------------

def programmes():
    return db.session.execute(db.select(RefItem).filter_by(kind="programme")
                              .order_by(RefItem.position, RefItem.id)).scalars().all()


def operator_choices(user):
    """Organisations whose places ``user`` may enter: their own for an organisation's admin, all
    otherwise."""
    query = (
        db.select(Organisation).where(Organisation.is_partner_institution.is_(False)).order_by(Organisation.name))
    return db.session.execute(scoped(query, Organisation, user)).scalars().all()


def record_capacity(user, programme_id, organisation_id, starts_on, places, note=""):
    """Places available from ``starts_on`` in a programme run by an operator; earlier rows stay as
    history."""
    programme = _get_programme(programme_id)
    operator = _get_operator(user, organisation_id)
    starts_on, places, note = _first_error(
        lambda: parse_date(starts_on, "starts_on", _("Date d'effet")),
        lambda: parse_count(places, "places", _("Le nombre de places")),
        lambda: parse_text(note, "note", _("Note"), required=False, maximum=300))
    row = PlaceCapacity(programme=programme, organisation=operator, starts_on=starts_on,
                        places=places, note=note, recorded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("capacity.record", actor=user, target=row,
                 field=f"{programme.code}/{operator.code}",
                 after=f"{places} @ {starts_on.isoformat()}", reason=note or None,
                 organisation_id=operator.id)
    return row


def _get_programme(programme_id):
    item = db.session.get(RefItem, _int_or_none(programme_id))
    if item is None or item.kind != "programme":
        raise ValidationError({"programme": _("Programme inconnu.")})
    return item


def _get_operator(user, organisation_id):
    operator = db.session.get(Organisation, _int_or_none(organisation_id))
    if operator is None or operator.is_partner_institution:
        raise ValidationError({"organisation": _("Organisation gestionnaire inconnue.")})
    if operator not in operator_choices(user):
        raise Forbidden(_("Vous ne pouvez saisir que les places de votre organisation."))
    return operator


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_no_overlapping_stay(referral, admitted_on):
    """Refuse an admission that would overlap another stay of the same person in the same programme.

    A stay occupies the nights from its admission to the day before its exit; an open stay runs on.
    Called by every path that records an admission (referrals.advance_referral)."""
    if referral.person_id is None:
        return
    clash = db.session.execute(
        db.select(Referral.admitted_on, Referral.exited_on)
        .where(Referral.person_id == referral.person_id,
               Referral.programme_id == referral.programme_id,
               Referral.id != referral.id, Referral.admitted_on.isnot(None),
               or_(Referral.exited_on.is_(None), Referral.exited_on > admitted_on))
        .order_by(Referral.admitted_on).limit(1)).first()
    if clash is not None:
        raise ValidationError({"occurred_on": _(
            "Cette personne a déjà un séjour dans ce programme (admise le %(day)s%(end)s) : "
            "enregistrez d'abord sa sortie, ou corrigez la date.",
            day=clash.admitted_on.strftime("%d/%m/%Y"),
            end=_(", sortie le %(day)s",
                  day=clash.exited_on.strftime("%d/%m/%Y")) if clash.exited_on else "")})


# --- action progress ----------------------------------------------------------------

def get_action(action_id):
    return db.session.get(PlanAction, action_id)


def record_action_status(user, action, status, effective_on, reason, evidence=""):
    """A new dated status of ``action`` (history kept: the status on a day is the latest dated on or
    before it)."""
    require_plan_level(user)
    if status not in ACTION_STATUSES:
        raise ValidationError({"status": _("Statut inconnu.")})
    effective_on, reason, evidence = _first_error(
        lambda: parse_date(effective_on, "effective_on", _("Date d'effet")),
        lambda: parse_text(reason, "reason", _("Motif")),
        lambda: parse_text(evidence, "evidence", _("Élément de preuve"), required=False))
    row = ActionStatusChange(action=action, status=status, effective_on=effective_on, reason=reason,
                             evidence=evidence, recorded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("action.status", actor=user, target=row, field=f"action {action.number}",
                 after=f"{status} @ {effective_on.isoformat()}", reason=reason)
    return row


def add_milestone(user, action, title, due_on, created_on):
    require_plan_level(user)
    title, due_on, created_on = _first_error(
        lambda: parse_text(title, "title", _("Jalon"), maximum=200),
        lambda: parse_date(due_on, "due_on", _("Échéance")),
        lambda: parse_date(created_on, "created_on", _("Date de création")))
    if due_on < created_on:
        raise ValidationError(
            {"due_on": _("Échéance : elle ne peut pas précéder la date de création.")})
    row = ActionMilestone(action=action, title=title, due_on=due_on, created_on=created_on)
    db.session.add(row)
    db.session.flush()
    audit.record("milestone.add", actor=user, target=row, field=f"action {action.number}",
                 after=f"{title} @ {due_on.isoformat()}")
    return row


def complete_milestone(user, milestone, done_on):
    require_plan_level(user)
    done_on = parse_date(done_on, "done_on", _("Date de réalisation"))
    if done_on < milestone.created_on:
        raise ValidationError(
            {"done_on": _("Date de réalisation : elle ne peut pas précéder la création du jalon.")})
    before = milestone.done_on
    milestone.done_on = done_on
    audit.record("milestone.done", actor=user, target=milestone, field="done_on",
                 before=before.isoformat() if before else None, after=done_on.isoformat())
    return milestone


# --- budgets -----------------------------------------------------------------------

AMOUNT_FIELDS = (("planned", "planned_cents"), ("committed", "committed_cents"),
                 ("spent", "spent_cents"))


def amount_labels():
    return {"planned": _("Le montant prévu"), "committed": _("Le montant engagé"),
            "spent": _("Le montant payé")}


def funders():
    return db.session.execute(
        db.select(Funder).order_by(Funder.position, Funder.id)).scalars().all()


def save_budget_line(user, action_id, funder_code, year, planned, committed, spent):
    """Create or replace the amounts of one (action, funder, year); the audit keeps the amounts
    before."""
    require_plan_level(user)
    action = db.session.get(PlanAction, _int_or_none(action_id))
    if action is None:
        raise ValidationError({"action": _("Action inconnue.")})
    funder = db.session.execute(
        db.select(Funder).filter_by(code=(funder_code or "").strip())).scalar_one_or_none()
    if funder is None:
        raise ValidationError({"funder": _("Financeur inconnu.")})
    labels = amount_labels()
    year, *amounts = _first_error(
        lambda: _parse_year(year),
        *[(lambda name=name: parse_amount(
            {"planned": planned, "committed": committed, "spent": spent}[name],
            name, labels[name])) for name, _c in AMOUNT_FIELDS])
    line = db.session.execute(
        db.select(BudgetLine).filter_by(action_id=action.id, funder_id=funder.id, year=year)
        ).scalar_one_or_none()
    before = None if line is None else _amounts_text(line)
    if line is None:
        line = BudgetLine(action=action, funder=funder, year=year)
        db.session.add(line)
    for (_name, column), cents in zip(AMOUNT_FIELDS, amounts, strict=True):
        setattr(line, column, cents)
    db.session.flush()
    if before == _amounts_text(line):
        # the same amounts again (a re-imported file): nothing changed, nothing to audit
        return line
    audit.record("budget.save", actor=user, target=line,
                 field=f"action {action.number} / {funder.code} / {year}",
                 before=before, after=_amounts_text(line))
    return line


def _parse_year(value):
    year = parse_count(value, "year", _("L'année"), maximum=YEARS[1])
    if year < YEARS[0]:
        raise ValidationError({"year": _("L'année : valeur invalide.")})
    return year


def _amounts_text(line):
    return " / ".join(str(getattr(line, c)) for _n, c in AMOUNT_FIELDS)


# --- population estimates ----------------------------------------------------------

def record_estimate(user, estimated_on, area, low, high, source):
    """A dated, sourced estimate; ``high`` empty means a single value."""
    require_plan_level(user)
    estimated_on, area, source, low = _first_error(
        lambda: parse_date(estimated_on, "estimated_on", _("Date de l'estimation")),
        lambda: parse_text(area, "area", _("Territoire"), maximum=120),
        lambda: parse_text(source, "source", _("Source"), maximum=300),
        lambda: parse_count(low, "low", _("L'estimation basse"), maximum=10**7))
    high = low if not str(high or "").strip() else parse_count(high, "high",
                                                               _("L'estimation haute"),
                                                               maximum=10**7)
    if low == 0:
        raise ValidationError({"low": _("L'estimation basse doit être positive.")})
    if high < low:
        raise ValidationError(
            {"high": _("L'estimation haute ne peut pas être inférieure à la basse.")})
    row = PopulationEstimate(estimated_on=estimated_on, area=area, low=low, high=high,
                             source=source, recorded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.record("estimate.record", actor=user, target=row, field=area,
                 after=f"{low}-{high} @ {estimated_on.isoformat()}", reason=source)
    return row


# --- budget file (CSV): the same rule as the page, every line checked before anything is kept -----

BUDGET_COLUMNS = ("action", "funder", "year", "planned", "committed", "spent")


def budget_csv(lines):
    """Every budget line in the import format (``;``, amounts with a decimal comma): a file to edit
    and send back."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(BUDGET_COLUMNS)
    for line in lines:
        writer.writerow([line.action.number, line.funder.code, line.year,
                         *(_cents_text(getattr(line, column)) for _n, column in AMOUNT_FIELDS)])
    return "\ufeff" + out.getvalue()


def budget_xlsx(lines):
    """The same lines as ``budget_csv`` in a workbook (amounts as numbers): the XLSX template to
    fill in."""
    from openpyxl import Workbook

    from ..cells import append_row
    book = Workbook()
    sheet = book.active
    sheet.title = "budgets"
    append_row(sheet, BUDGET_COLUMNS)
    for line in lines:
        append_row(sheet, [line.action.number, line.funder.code, line.year,
                           *(getattr(line, column) / 100 for _n, column in AMOUNT_FIELDS)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cents_text(cents):
    return f"{cents // 100},{cents % 100:02d}"


def import_budget_lines(user, data):
    """Save every line of a CSV file (columns ``BUDGET_COLUMNS``, ``;``-separated), or none: any bad
    line raises ValidationError listing each problem with its line number (the caller rolls back).
    Importing the same file again changes nothing. Returns the number of lines read."""
    require_plan_level(user)
    rows = _read_budget_csv(data)
    actions = {a.number: a.id for a in db.session.execute(db.select(PlanAction)).scalars()}
    problems = []
    for number, row in rows:
        try:
            save_budget_line(user, actions.get((row.get("action") or "").strip(), -1),
                             row.get("funder"),
                             row.get("year"), row.get("planned"), row.get("committed"),
                             row.get("spent"))
        except ValidationError as exc:
            problems.extend(_("Ligne %(n)s : %(e)s", n=number, e=message)
                            for message in exc.errors.values())
    if problems:
        raise ValidationError({"file": " ".join(problems)})
    return len(rows)


MAX_BUDGET_ROWS = 10_000


def _read_budget_csv(data):
    if data[:4] == b"PK\x03\x04":  # an XLSX workbook (a zip): its first sheet, same columns
        return _checked_rows(_read_budget_xlsx(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": _("Fichier illisible : enregistrez-le en CSV UTF-8.")}) from None
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    _check_columns(reader.fieldnames)
    return _checked_rows((reader.line_num, row) for row in reader)


def _check_columns(columns):
    missing = [c for c in BUDGET_COLUMNS if c not in (columns or [])]
    if missing:
        raise ValidationError(
            {"file": _("Colonnes manquantes : %(c)s (séparateur attendu : point-virgule).",
                       c=", ".join(missing))})


def _read_budget_xlsx(data):
    """(line, {column: text}) of the first sheet, once the contact import's limits (``check_xlsx``)
    bound what parsing may cost; cells read as that import reads them."""
    from openpyxl import load_workbook

    from ..imports.xlsx_limits import check_xlsx
    check_xlsx(data, MAX_BUDGET_ROWS)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 (openpyxl raises many kinds of errors on a broken file)
        raise ValidationError({"file": _("Le fichier XLSX est illisible.")}) from None
    try:
        lines = book.worksheets[0].iter_rows(values_only=True)
        columns = [str(v or "").strip().lower() for v in next(lines, None) or []]
        _check_columns(columns)
        return [(number, dict(zip(columns, map(_amount_cell, values), strict=False)))
                for number, values in enumerate(lines, start=2)]
    finally:
        book.close()


def _amount_cell(value):
    """A number typed in a spreadsheet cell (1234.5) as the page's parser reads it; any other cell
    as text."""
    from ..imports.reading import _cell
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else _cell(value)


def _checked_rows(rows):
    rows = [(n, row) for n, row in rows
            if any((v or "").strip() for v in row.values() if isinstance(v, str))]
    if not rows:
        raise ValidationError({"file": _("Le fichier ne contient aucune ligne.")})
    return rows
