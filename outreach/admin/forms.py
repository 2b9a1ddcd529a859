from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.services import password_problem
from ..extensions import db
from ..labels import ROLE as ROLE_LABELS
from ..models import User


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices(roles):
    return [SelectChoice(r, ROLE_LABELS[r]) for r in roles]


class InviteForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[
        DataRequired(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Adresse e-mail invalide."))])
    role = RadioField(_l("Rôle"), validators=[DataRequired()])
    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[Optional()])
    teams = MultiCheckboxField(_l("Équipes"), coerce=int)
    mode = RadioField(_l("Première connexion"), default="link", choices=[
        SelectChoice("link", _l("Lien à usage unique (72 h)")),
        SelectChoice("temporary", _l("Mot de passe temporaire"))])

    def setup(self, roles, organisations, teams):
        self.role.choices = _role_choices(roles)
        self.organisation_id.choices = [SelectChoice(o.id, o.name) for o in organisations]
        several = len({t.organisation_id for t in teams}) > 1  # an instance admin: whose team
        self.teams.choices = [
            SelectChoice(t.id, f"{t.name} · {t.organisation.name}" if several else t.name)
            for t in teams]
        return self

    def validate_email(self, field):
        email = (field.data or "").strip().lower()
        if db.session.execute(db.select(User.id).filter_by(email=email)).first():
            raise ValidationError(_l("Cette adresse a déjà un compte."))


class UserForm(FlaskForm):
    role = RadioField(_l("Rôle"), validators=[DataRequired()])
    teams = MultiCheckboxField(_l("Équipes"), coerce=int)

    def setup(self, roles, teams):
        self.role.choices = _role_choices(roles)
        self.teams.choices = [SelectChoice(t.id, t.name) for t in teams]
        return self


class ConfirmForm(FlaskForm):
    """A bare POST with its CSRF token (disable, enable, unlock, reset)."""


class SetPasswordForm(FlaskForm):
    new = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=200)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Confirmer le mot de passe"),
                            validators=[DataRequired(),
                                        EqualTo("new", message=_l("Les deux saisies diffèrent."))],
                            render_kw={"autocomplete": "new-password"})

    def validate_new(self, field):
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


class TotpForm(FlaskForm):
    """A new second factor: the password, the code of the factor in use (when there is one), then
    a code of the new key."""
    secret = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    password = PasswordField(_l("Mot de passe actuel"),
                             validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    current_code = StringField(_l("Code actuel de votre application (double facteur déjà activé)"),
                               validators=[Length(max=10)],
                               render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    code = StringField(_l("Code affiché par l'application"),
                       validators=[DataRequired(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()])
    email = StringField(_l("Utilisateur·rice (e-mail)"), validators=[Optional(), Length(max=254)])
    start = DateField(_l("Du"), validators=[Optional()])
    end = DateField(_l("Au"), validators=[Optional()])
