"""Plan-execution forms: text in, parsed by ``services`` (one home for every rule and message)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField


def _select(label):
    return SelectField(label, choices=[], validate_choice=False)


class CapacityForm(FlaskForm):
    programme = _select(_l("Programme"))
    organisation = _select(_l("Organisation gestionnaire"))
    starts_on = StringField(_l("Date d'effet"), render_kw={"type": "date"})
    places = StringField(_l("Places disponibles"), render_kw={"inputmode": "numeric"})
    note = StringField(_l("Note"))


class StatusForm(FlaskForm):
    status = _select(_l("Statut"))
    effective_on = StringField(_l("Date d'effet"), render_kw={"type": "date"})
    reason = StringField(_l("Motif"))
    evidence = TextAreaField(_l("Élément de preuve"), render_kw={"rows": 2})


class MilestoneForm(FlaskForm):
    title = StringField(_l("Jalon"))
    created_on = StringField(_l("Date de création"), render_kw={"type": "date"})
    due_on = StringField(_l("Échéance"), render_kw={"type": "date"})


class MilestoneDoneForm(FlaskForm):
    done_on = StringField(_l("Date de réalisation"), render_kw={"type": "date"})


class BudgetForm(FlaskForm):
    action = _select(_l("Action"))
    funder = _select(_l("Financeur"))
    year = StringField(_l("Année"), render_kw={"inputmode": "numeric"})
    planned = StringField(_l("Prévu (engagement initial)"), render_kw={"inputmode": "decimal"})
    committed = StringField(_l("Engagé"), render_kw={"inputmode": "decimal"})
    spent = StringField(_l("Payé"), render_kw={"inputmode": "decimal"})


class EstimateForm(FlaskForm):
    estimated_on = StringField(_l("Date de l'estimation"), render_kw={"type": "date"})
    area = StringField(_l("Territoire"))
    low = StringField(_l("Estimation (ou borne basse)"), render_kw={"inputmode": "numeric"})
    high = StringField(_l("Borne haute (facultative)"), render_kw={"inputmode": "numeric"})
    source = StringField(_l("Source"))


class BudgetImportForm(FlaskForm):
    file = FileField(_l("Fichier CSV ou XLSX"))
