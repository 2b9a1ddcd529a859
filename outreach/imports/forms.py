from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier des contacts (CSV ou XLSX, selon le modèle)"), validators=[
        FileRequired(_l("Choisissez un fichier.")),
        FileAllowed(["csv", "xlsx"], _l("Formats acceptés : CSV ou XLSX."))])
    partial = BooleanField(_l("Importer seulement les lignes valides (sinon : tout ou rien)"))
