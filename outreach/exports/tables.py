"""Dashboard views as plain tables (sheets of rows), then written as CSV or XLSX.

Values come from ``outreach.indicators.services`` exactly as the pages show them, with their
disclosure control already applied. A withheld (``Hidden``) cell is written as "< 5" in CSV; in XLSX
it is left EMPTY (a numeric column holds numbers only) and the row's "Cellules masquées" column says
which cells were withheld. Shares are ``Percent`` values, written as percentages.
"""
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from ..cells import CsvWriter, append_row
from ..extensions import db
from ..indicators import measures as m
from ..indicators import services as ind
from ..indicators.suppression import Hidden, is_shown, legend
from ..labels import describe_filters
from ..models import Organisation, Sector, Team


@dataclass
class Sheet:
    title: str
    header: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # (label, text) lines written above the table (XLSX)


@dataclass(frozen=True)
class Percent:
    """A share in percent units (26.3 = 26,3 %): a percentage in XLSX, the number in CSV."""
    value: float


def percent(value):
    """``value`` (in percent units) marked as a percentage; withheld and missing values stay as they
    are."""
    return Percent(value) if is_shown(value) else value


def cell(value):
    """A value for a CSV file: suppressed cells as their text, numbers rounded, nothing as empty."""
    if value is None:
        return None
    if isinstance(value, Hidden):
        return str(value)
    if isinstance(value, Percent):
        return cell(value.value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 2)
    return value


def _visible(row, key):
    """Share and change are left empty when the value itself is hidden."""
    return None if isinstance(row["value"], Hidden) else row[key]


def _as_unit(value, item):
    return percent(value) if item.unit == "%" else value


def dashboard_sheets(period, filters, user):
    """One sheet per plan action: each indicator's value, target, share, change and previous
    value."""
    _plan, actions = ind.dashboard(period, filters, user)
    header = [_("Code"), _("Indicateur"), _("Unité"), _("Valeur"), _("Cible"),
              _("Part de la cible"), _("Évolution"), _("Période précédente"), _("État des mois")]
    states = month_states_text(period, filters)
    sheets = []
    for block in actions:
        sheet = Sheet(f"{block['action'].number} {block['action'].title}", header)
        for row in block["rows"]:
            item = row["indicator"]
            sheet.rows.append([item.code, item.name, item.unit, _as_unit(row["value"], item),
                               _as_unit(row["target"], item), percent(_visible(row, "share")),
                               _visible(row, "change"), _as_unit(row["previous"], item), states])
        sheets.append(sheet)
    indicators = [r["indicator"] for b in actions for r in b["rows"]]
    return sheets, indicators


def month_states_text(period, filters):
    """Each month of the period with its state (provisional, signed off, accepted;
    ``outreach.signoff``), consecutive months of one state together: "janv. 2026 – sept. 2026 :
    Provisoire · oct. 2026 : Accepté"."""
    runs = []
    for _month, label, state in _period_states(period, filters):
        if runs and runs[-1][2] == state:
            runs[-1][1] = label
        else:
            runs.append([label, label, state])
    return " · ".join(f"{first if first == last else f'{first} – {last}'} : "
                      f"{month_state_label(state)}"
                      for first, last, state in runs)


def breakdown_sheets(indicator, period, filters, user, by):
    """The indicator by ``by``; by month, each month's sign-off state beside its value."""
    rows, total = ind.breakdown(indicator, period, filters, user, by)
    if by == "month":
        states = [[month_state_label(state)] for _m, _l, state in _period_states(period, filters)]
        header = [_("Découpage"), _("Valeur"), _("État du mois")]
    else:
        states, header = [[]] * len(rows), [_("Découpage"), _("Valeur")]
    sheet = Sheet(indicator.name, header, [[label, _as_unit(v, indicator), *state]
                                           for (label, v), state in zip(rows, states, strict=True)])
    sheet.rows.append([_("Total de la période"), _as_unit(total, indicator)])
    return [sheet], [indicator]


def _period_states(period, filters):
    from ..signoff.services import period_states
    return period_states(period, filters)


def month_state_label(state):
    """A month's sign-off state in words (``outreach.signoff``: provisional, signed off,
    accepted)."""
    from ..labels import label
    return label("month_state", state)


def funnel_sheets(period, filters, user):
    """The two pathways (each step's share of the previous one of its chain) and the table per
    programme."""
    data = ind.funnel(period, filters, user)
    chain = Sheet(_("Parcours"),
                  [_("Parcours"), _("Étape"), _("Nombre"), _("Part de l'étape précédente")])
    shelter, care = _("Hébergement"), _("Soin")
    chain.rows += [[shelter, str(step.label), step.value, percent(step.share)]
                   for step in data["shelter"]]
    no_place = data["no_place"]
    chain.rows.append(
        [shelter, _("%(step)s (part des orientations proposées)", step=no_place.label),
         no_place.value, percent(no_place.share)])
    chain.rows += [[care, str(step.label), step.value, percent(step.share)]
                   for step in data["care"]]
    chain.rows.append([_("Pour mémoire"), _("Rencontres"), data["contacts"], None])
    labels = [str(m.MEASURES[s].label) for s in ind.FUNNEL_STEPS + ind.FUNNEL_EXTRA]
    programmes = Sheet(_("Par programme"),
                       [_("Programme")] + labels + [_("Attente médiane (jours)")])
    for programme, values, waiting in data["programmes"]:
        programmes.rows.append([programme.display_label] + list(values) + [waiting])
    return [chain, programmes], []


def context_lines(period, filters, user):
    """Period, filters and what was done to the numbers (disclosure control), as (label, text)
    pairs."""
    names = {"organisation_id": (Organisation, Organisation.name), "team_id": (Team, Team.name),
             "sector_id": (Sector, Sector.display_label_column())}
    lines = ([(_("Période"),
               f"{period.label} ({period.start.isoformat()} – {period.end.isoformat()[:7]})")])
    for key, (model, column) in names.items():
        if filters.get(key):
            name = db.session.execute(db.select(column).where(model.id == filters[key])).scalar()
            lines.append((_("Filtre"), f"{key.removesuffix('_id')} = {name}"))
    lines.append((_("Données"), _("validées et provisoires") if filters.get("include_provisional")
                  else _("maraudes validées seulement")))
    lines.append((_("Secret statistique"), legend(user)))
    lines.append((_("Exporté le"), datetime.now().strftime("%Y-%m-%d %H:%M")))
    return lines


def definitions_sheet(indicators, period, filters, user):
    """The first sheet: what was exported (period, filters, disclosure control), then each
    indicator's definition."""
    sheet = Sheet(_("Définitions"),
                  [_("Code"), _("Indicateur"), _("Définition"), _("Unité"), _("Numérateur"),
                   _("Dénominateur"), _("Facteur"), _("Filtres propres")])
    sheet.notes = context_lines(period, filters, user) + [
        (_("Cellules vides"),
         _("Un chiffre masqué par le secret statistique est laissé vide ; la colonne « Cellules "
           "masquées » de sa ligne dit lesquels et pourquoi (« < 5 »)."))]
    for item in indicators:
        own = describe_filters(item.numerator_filters)
        den = m.MEASURES[item.denominator].label if item.denominator else ""
        sheet.rows.append([item.code, item.name, item.definition, item.unit,
                           str(m.MEASURES[item.numerator].label), str(den), item.factor, own])
    return sheet


# --- writers ------------------------------------------------------------------------

def to_csv(sheets, separator=";"):
    """UTF-8 with BOM; ';' (decimal comma, for French Excel) or ','. Several sheets: a first column
    names it."""
    out = io.StringIO()
    writer = CsvWriter(out, separator)
    several = len(sheets) > 1
    for index, sheet in enumerate(sheets):
        if index == 0 or sheet.header != sheets[index - 1].header:
            writer.writerow(([_("Tableau")] if several else []) + sheet.header)
        for row in sheet.rows:
            writer.writerow(([sheet.title] if several else []) + [_text(v, separator) for v in row])
    return "\ufeff" + out.getvalue()


def _text(value, separator):
    value = cell(value)
    if value is None:
        return ""
    if isinstance(value, float) and separator == ";":
        return str(value).replace(".", ",")
    return str(value)


# --- XLSX: a tidy workbook ------------------------------------------------------------

INTEGER, DECIMAL, PERCENT = "#,##0", "#,##0.0", "0.0%"
WIDTH_MIN, WIDTH_MAX = 8, 60


def to_xlsx(sheets, definitions=None):
    """Definitions first; on every sheet a bold frozen header row with filters, fitted column
    widths, numbers as numbers (thousands separated, percentages as percentages) and withheld cells
    empty and flagged."""
    from openpyxl import Workbook
    book = Workbook()
    book.remove(book.active)
    used = set()
    for sheet in ([definitions] if definitions else []) + sheets:
        _write_sheet(book.create_sheet(_sheet_title(sheet.title, used)), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(page, sheet):
    from openpyxl.styles import Alignment, Font
    for label, text in sheet.notes:
        append_row(page, [label, text])
        page.cell(page.max_row, 1).font = Font(bold=True)
    if sheet.notes:
        page.append([])
    flagged = any(isinstance(v, Hidden) for row in sheet.rows for v in row)
    if not sheet.header:  # a sheet of notes (label, text): no table to filter
        for row in sheet.rows:
            append_row(page, [cell(v) for v in row])
        _fit_columns(page, [""] * page.max_column, 0)
        return
    header = sheet.header + ([_("Cellules masquées")] if flagged else [])
    append_row(page, header)
    top = page.max_row
    for c in page[top]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for row in sheet.rows:
        _write_row(page, sheet.header, row, flagged)
    page.freeze_panes = page.cell(top + 1, 1)
    page.auto_filter.ref = f"A{top}:{_column(len(header))}{max(page.max_row, top)}"
    _fit_columns(page, header, top)


def _write_row(page, header, row, flagged):
    values = [None if isinstance(v, Hidden) else v.value / 100 if isinstance(v, Percent)
              else cell(v) for v in row]
    hidden = [f"{name} : {v}" for name, v in zip(header, row) if isinstance(v, Hidden)]
    append_row(page, values + (["; ".join(hidden)] if flagged else []))
    for c, original in zip(page[page.max_row], row):
        if isinstance(original, Percent):
            c.number_format = PERCENT
        elif isinstance(c.value, float):
            c.number_format = DECIMAL
        elif isinstance(c.value, int) and not isinstance(c.value, bool):
            c.number_format = INTEGER


def _fit_columns(page, header, top):
    from openpyxl.styles import Alignment
    for index, name in enumerate(header, start=1):
        letter = _column(index)
        cells = [c for (c,) in page.iter_rows(min_row=top + 1, min_col=index, max_col=index)]
        longest = max([len(str(name)) * 0.8]
                      + [len(str(c.value)) + 2 for c in cells if c.value is not None])
        page.column_dimensions[letter].width = max(WIDTH_MIN, min(WIDTH_MAX, longest))
        if longest > WIDTH_MAX:
            for c in cells:
                c.alignment = Alignment(wrap_text=True, vertical="top")


def _column(index):
    from openpyxl.utils import get_column_letter
    return get_column_letter(index)


SHEET_TITLE_MAX = 31  # Excel's limit
DANGLING = {"à", "au", "aux", "de", "des", "du", "d'", "en", "et", "la", "le", "les", "l'", "pour",
            "sur", "vers",
            "par", "avec", "un", "une", "dans", "·", "-", "–", "→", "of", "the", "and", "to", "for",
            "in"}


def _sheet_title(title, used):
    """Excel sheet names: at most 31 characters cut between words (no dangling "à", "de"), none of
    []:*?/\\, unique."""
    words = re.sub(r"[\[\]:*?/\\]", " ", title).split()
    while words and len(" ".join(words)) > SHEET_TITLE_MAX:
        words.pop()
    while len(words) > 1 and words[-1].lower() in DANGLING:
        words.pop()
    base = " ".join(words) or title[:SHEET_TITLE_MAX].strip() or "feuille"
    name, n = base[:SHEET_TITLE_MAX], 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = _sheet_title_room(base, SHEET_TITLE_MAX - len(suffix)) + suffix, n + 1
    used.add(name.lower())
    return name


def _sheet_title_room(base, room):
    words = base.split()
    while len(words) > 1 and len(" ".join(words)) > room:
        words.pop()
    return " ".join(words)[:room]
