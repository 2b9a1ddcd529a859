"""The report card as an XLSX workbook: the page's tables as sheets (protected cells left empty and
flagged), then a definitions sheet. Written with the dashboard exports' writer
(``exports.tables``)."""
from flask_babel import gettext as _

from ..exports.tables import Sheet, percent, to_csv, to_xlsx
from .card import DEFINITIONS, STATUS_LABELS


def _euros(cents):
    return round(cents / 100, 2)


def _cost(value):
    return None if value is None else round(value, 2)


def _share(value):
    return percent(value)


def actions_sheet(data):
    sheet = Sheet(_("Actions"), [_("Axe"), _("Action"), _("Intitulé"), _("Statut"), _("Depuis"),
                                 _("Jalons en retard"),
                                 _("Prévu (€)"), _("Engagé (€)"), _("Payé (€)"),
                                 _("Coût par nuitée-place (€)")])
    for axis in data["axes"]:
        for c in axis.actions:
            since = c.status_change.effective_on if c.status_change else None
            late = "; ".join(f"{m.title} ({m.due_on.isoformat()})" for m in c.late)
            sheet.rows.append([axis.axis.number, c.action.number, c.action.title,
                               str(STATUS_LABELS[c.status]), since,
                               late, *(_euros(x) for x in c.budget), _cost(c.cost_per_place_night)])
    return sheet


def statuses_sheet(data):
    sheet = Sheet(_("Statuts"), [_("Axe"), *(str(label) for label in STATUS_LABELS.values())])
    for axis in data["axes"]:
        sheet.rows.append([f"{axis.axis.number} {axis.axis.title}",
                           *(axis.counts.get(s, 0) for s in STATUS_LABELS)])
    sheet.rows.append([_("Tout le plan"), *(data["counts"].get(s, 0) for s in STATUS_LABELS)])
    return sheet


def budget_sheet(data):
    sheet = Sheet(_("Budget"),
                  [_("Financeur ou année"), _("Prévu (€)"), _("Engagé (€)"), _("Payé (€)")])
    for funder, totals in data["budget"]["by_funder"]:
        sheet.rows.append([funder.display_label, *(_euros(x) for x in totals)])
    for year, totals in data["budget"]["by_year"]:
        sheet.rows.append([year, *(_euros(x) for x in totals)])
    sheet.rows.append([_("Total"), *(_euros(x) for x in data["budget"]["total"])])
    return sheet


def places_sheet(data):
    sheet = Sheet(_("Places"), [_("Programme"), _("Places en fin de période"), _("Nuitées-places"),
                                _("Nuitées occupées"), _("Taux d'occupation (%)"),
                                _("Séjours terminés"),
                                _("Durée médiane des séjours terminés (jours)"),
                                _("Séjours en cours"),
                                _("Refus faute de place"), _("Sorties vers un logement stable"),
                                _("Sorties avec code"), _("Retours à la rue à 6 mois"),
                                _("Retours à la rue à 12 mois")])
    for p in data["places"]:
        sheet.rows.append([
            p["programme"].display_label, p["places_end"], p["place_nights"], p["person_nights"],
            _share(p["rate"]),
            p["completed"], p["median"], p["open"], p["refusals_no_place"], p["exits_stable"],
            p["returns"]["exits"], p["returns"][6], p["returns"][12]])
    return sheet


def months_sheet(data):
    sheet = Sheet(_("Occupation mensuelle"),
                  [_("Programme"), _("Mois"), _("Places"), _("Nuitées-places"),
                   _("Nuitées occupées"), _("Taux d'occupation (%)")])
    for p in data["places"]:
        for m in p["months"]:
            sheet.rows.append(
                [p["programme"].display_label, m["month"].isoformat()[:7], m["places"],
                 m["place_nights"], m["person_nights"], _share(m["rate"])])
    return sheet


def coverage_sheet(data):
    coverage = data["coverage"]
    estimate = coverage["estimate"]
    sheet = Sheet(_("Couverture"), [_("Personnes distinctes sur 12 mois"), _("Estimation basse"),
                                    _("Estimation haute"), _("Territoire"),
                                    _("Date de l'estimation"), _("Source"),
                                    _("Couverture basse (%)"), _("Couverture haute (%)")])
    sheet.rows.append([coverage["persons"], *(
        [estimate.low, estimate.high, estimate.area, estimate.estimated_on, estimate.source]
        if estimate
        else [None] * 5), _share(coverage["low"]), _share(coverage["high"])])
    return sheet


def definitions_sheet(data):
    period = data["period"]
    sheet = Sheet(_("définitions"), [])
    sheet.rows.append([_("Plan"), data["plan"].title])
    sheet.rows.append([_("Période"), f"{period.first.isoformat()} – {period.last.isoformat()}"])
    sheet.rows.append([])
    for key, text in DEFINITIONS.items():
        sheet.rows.append([key, str(text)])
    return sheet


def card_xlsx(data):
    sheets = [actions_sheet(data), statuses_sheet(data), budget_sheet(data), places_sheet(data),
              months_sheet(data), coverage_sheet(data)]
    return to_xlsx(sheets, definitions_sheet(data))


def card_csv(data, separator=";"):
    """Every table of the report card in one CSV (a first column names the table), then the
    definitions."""
    return to_csv(
        [actions_sheet(data), statuses_sheet(data), budget_sheet(data), places_sheet(data),
         months_sheet(data), coverage_sheet(data), definitions_sheet(data)], separator)
