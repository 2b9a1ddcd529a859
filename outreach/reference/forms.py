from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)


class AddItemForm(FlaskForm):
    code = StringField(_l("Code (stable)"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Libellé"), validators=[DataRequired(), Length(max=120)])
    label_en = StringField(_l("Libellé anglais"), validators=[Optional(), Length(max=120)])


class EditItemForm(FlaskForm):
    label = StringField(_l("Libellé"), validators=[DataRequired(), Length(max=120)])
    label_en = StringField(_l("Libellé anglais"), validators=[Optional(), Length(max=120)])
    position = IntegerField(_l("Ordre"),
                            validators=[InputRequired(), NumberRange(min=0, max=10000)])
    is_active = BooleanField(_l("Actif"))
