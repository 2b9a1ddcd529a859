"""Forms of the register and of an observation. They check types only: the rules live in
``services``."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from ..site_models import OBSERVATION_COUNTS
from . import services

COUNT_LABELS = {
    "people_seen": _l("Personnes vues"),
    "unapproached_women": _l("Non abordées : femmes"),
    "unapproached_men": _l("Non abordés : hommes"),
    "unapproached_other": _l("Non abordé·es : autre / non précisé"),
    "syringes_collected": _l("Seringues usagées ramassées"),
    "pipes_collected": _l("Pipes usagées ramassées"),
    "mediations_residents": _l("Médiations avec des riverain·es"),
    "mediations_shopkeepers": _l("Médiations avec des commerçant·es"),
}
AMBIANCE_CHOICES = [SelectChoice("", _l("Non renseignée")), SelectChoice("calme", _l("Calme")),
                    SelectChoice("tendue", _l("Tendue")), SelectChoice("agitee", _l("Agitée"))]
POLICE_CHOICES = [SelectChoice("", _l("Non renseigné")), SelectChoice("oui", _l("Oui")),
                  SelectChoice("non", _l("Non"))]


def _count_field(name):
    return IntegerField(COUNT_LABELS[name], default=0,
                        validators=[InputRequired(), NumberRange(min=0, max=services.MAX_COUNT)])


class ObservationForm(FlaskForm):
    id = HiddenField()
    site_id = SelectField(_l("Site"), coerce=int, validators=[InputRequired()])
    ambiance = RadioField(_l("Ambiance"), choices=AMBIANCE_CHOICES, default="",
                          validate_choice=True)
    police_presence = RadioField(_l("Présence policière"), choices=POLICE_CHOICES, default="")
    people_seen = _count_field("people_seen")
    unapproached_women = _count_field("unapproached_women")
    unapproached_men = _count_field("unapproached_men")
    unapproached_other = _count_field("unapproached_other")
    syringes_collected = _count_field("syringes_collected")
    pipes_collected = _count_field("pipes_collected")
    mediations_residents = _count_field("mediations_residents")
    mediations_shopkeepers = _count_field("mediations_shopkeepers")

    def with_sites(self, sites):
        # the API's key
        self.site_id.choices = [SelectChoice(s.id, s.name, render_kw={"data-code": s.code})
                                for s in sites]
        return self

    def data_for_service(self):
        data = {name: self[name].data for name in OBSERVATION_COUNTS}
        data.update(id=self.id.data or None, site_id=self.site_id.data,
                    ambiance=self.ambiance.data or None,
                    police_presence={"oui": True, "non": False}.get(self.police_presence.data))
        return data


class SiteForm(FlaskForm):
    code = StringField(_l("Code (stable)"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=120)])
    type_id = SelectField(_l("Type"), coerce=int, validators=[InputRequired()])
    arrondissement = IntegerField(_l("Arrondissement"),
                                  validators=[InputRequired(), NumberRange(min=1, max=20)])
    sector_id = SelectField(_l("Secteur"), coerce=int, validators=[InputRequired()])
    active_from = DateField(_l("Actif depuis"), validators=[Optional()])
    active_until = DateField(_l("Actif jusqu'au"), validators=[Optional()])
    latitude = FloatField(_l("Latitude"), validators=[Optional()])
    longitude = FloatField(_l("Longitude"), validators=[Optional()])

    def with_choices(self, types, sectors):
        self.type_id.choices = [SelectChoice(t.id, t.display_label) for t in types]
        self.sector_id.choices = [SelectChoice(s.id, s.display_label) for s in sectors]
        return self

    def values(self):
        return {name: self[name].data for name in services.SITE_FIELDS}


class MeetingForm(FlaskForm):
    held_on = DateField(_l("Date de la réunion"), validators=[InputRequired()])
    title = StringField(_l("Objet"), validators=[DataRequired(), Length(max=200)])
    organisations = SelectMultipleField(_l("Organisations présentes"), coerce=int,
                                        validators=[InputRequired()])

    def with_choices(self, organisations):
        self.organisations.choices = [SelectChoice(o.id, o.name) for o in organisations]
        return self


class DecisionForm(FlaskForm):
    text = StringField(_l("Décision"), validators=[DataRequired(), Length(max=500)])
    action_id = SelectField(_l("Action du plan (facultatif)"), validators=[Optional()])
    follow_up_on = DateField(_l("Date de suivi (facultatif)"), validators=[Optional()])

    def with_choices(self, actions):
        self.action_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(a.id), f"{a.number} {a.title}") for a in actions]
        return self

    def action(self):
        return int(self.action_id.data) if self.action_id.data else None


class DoneForm(FlaskForm):
    done_on = DateField(_l("Fait le"), validators=[InputRequired()])


class PartnersForm(FlaskForm):
    partners = SelectMultipleField(_l("Partenaires présents"), coerce=int, validators=[Optional()])

    def with_choices(self, partners):
        self.partners.choices = [SelectChoice(p.id, p.display_label) for p in partners]
        return self
