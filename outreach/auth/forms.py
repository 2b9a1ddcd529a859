from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..queryargs import plausible_code
from .services import password_problem


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    totp = StringField(_l("Code à usage unique (si activé)"), validators=[Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})

    def validate_email(self, field):
        # an address is looked up as a code is: one rule for what no key can be (NUL: a 500 on
        # PostgreSQL)
        if not plausible_code(field.data or "", max_length=254):
            raise ValidationError(_l("Adresse e-mail invalide."))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=200)],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Confirmer le nouveau mot de passe"),
                            validators=[DataRequired(),
                                        EqualTo("new", message=_l("Les deux saisies diffèrent."))],
                            render_kw={"autocomplete": "new-password"})

    def validate_new(self, field):
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)
