"""Dashboard views as plain tables (sheets of rows), then written as CSV or XLSX.

Values come from ``outreach.indicators.services`` exactly as the pages show them, with
their disclosure control already applied (withheld ``Hidden`` cells are written as "< 5").
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
from ..indicators.suppression import Hidden, legend
from ..labels import describe_filters
from ..models import Organisation, Sector, Team


@dataclass
class Sheet:
    title: str
    header: list
    rows: list = field(default_factory=list)


def cell(value):
    """A value for a file: suppressed cells as their text, numbers rounded, nothing as empty."""
    if value is None:
        return None
    if isinstance(value, Hidden):
        return str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 2)
    return value


def _visible(row, key):
    """Share and change are left empty when the value itself is hidden."""
    return None if isinstance(row["value"], Hidden) else row[key]


def dashboard_sheets(period, filters, user):
    """One sheet per plan action: each indicator's value, target, share, change and previous value."""
    _plan, actions = ind.dashboard(period, filters, user)
    header = [_("Code"), _("Indicateur"), _("Unité"), _("Valeur"), _("Cible"), _("Part de la cible (%)"),
              _("Évolution"), _("Période précédente")]
    sheets = []
    for block in actions:
        sheet = Sheet(f"{block['action'].number} {block['action'].title}", header)
        for row in block["rows"]:
            item = row["indicator"]
            sheet.rows.append([item.code, item.name, item.unit, cell(row["value"]), cell(row["target"]),
                               cell(_visible(row, "share")), cell(_visible(row, "change")), cell(row["previous"])])
        sheets.append(sheet)
    indicators = [r["indicator"] for b in actions for r in b["rows"]]
    return sheets, indicators


def breakdown_sheets(indicator, period, filters, user, by):
    rows, total = ind.breakdown(indicator, period, filters, user, by)
    sheet = Sheet(indicator.name, [_("Découpage"), _("Valeur")], [[label, cell(v)] for label, v in rows])
    sheet.rows.append([_("Total de la période"), cell(total)])
    return [sheet], [indicator]


def funnel_sheets(period, filters, user):
    data = ind.funnel(period, filters, user)
    steps = [_("Rencontres"), _("Orientations")] + [str(m.MEASURES[s].label) for s in ind.FUNNEL_STEPS]
    chain = Sheet(_("Parcours"), [_("Étape"), _("Nombre"), _("Taux depuis l'étape précédente (%)")])
    for i, (label, value) in enumerate(zip(steps, data["chain"])):
        chain.rows.append([label, cell(value), cell(data["rates"][i - 1]) if i else None])
    labels = [str(m.MEASURES[s].label) for s in ind.FUNNEL_STEPS + ind.FUNNEL_EXTRA]
    programmes = Sheet(_("Par programme"), [_("Programme")] + labels + [_("Attente médiane (jours)")])
    for programme, values, waiting in data["programmes"]:
        programmes.rows.append([programme.display_label] + [cell(v) for v in values] + [cell(waiting)])
    return [chain, programmes], []


def context_lines(period, filters, user):
    """Period, filters and what was done to the numbers (disclosure control), as (label, text) pairs."""
    names = {"organisation_id": (Organisation, Organisation.name), "team_id": (Team, Team.name),
             "sector_id": (Sector, Sector.display_label_column())}
    lines = [(_("Période"), f"{period.label} ({period.start.isoformat()} – {period.end.isoformat()[:7]})")]
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
    sheet = Sheet(_("définitions"), [_("Code"), _("Indicateur"), _("Définition"), _("Unité"), _("Numérateur"),
                                     _("Dénominateur"), _("Facteur"), _("Filtres propres")])
    for label, text in context_lines(period, filters, user):
        sheet.rows.append([label, text])
    sheet.rows.append([])
    sheet.rows.append(sheet.header)
    for item in indicators:
        own = describe_filters(item.numerator_filters)
        den = m.MEASURES[item.denominator].label if item.denominator else ""
        sheet.rows.append([item.code, item.name, item.definition, item.unit, str(m.MEASURES[item.numerator].label),
                           str(den), item.factor, own])
    return sheet


# --- writers ------------------------------------------------------------------------

def to_csv(sheets, separator=";"):
    """UTF-8 with BOM; ';' (decimal comma, for French Excel) or ','. Several sheets: a first column names it."""
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
    if value is None:
        return ""
    if isinstance(value, float) and separator == ";":
        return str(value).replace(".", ",")
    return str(value)


def to_xlsx(sheets, definitions=None):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    book.remove(book.active)
    used = set()
    for sheet in sheets + ([definitions] if definitions else []):
        page = book.create_sheet(_sheet_title(sheet.title, used))
        if sheet is not definitions:
            append_row(page, sheet.header)
            for c in page[1]:
                c.font = Font(bold=True)
        for row in sheet.rows:
            append_row(page, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title, used):
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "feuille"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name
