from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class PlanUploadForm(FlaskForm):
    file = FileField(_l("Fichier du plan (YAML ou CSV)"), validators=[
        FileRequired(_l("Choisissez un fichier.")),
        FileAllowed(["yaml", "yml", "csv"], _l("Formats acceptés : YAML ou CSV."))])
