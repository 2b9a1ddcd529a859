"""Import page for supervisors and admins of an organisation: template download, upload, report."""
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import TooLarge, ValidationError
from ..extensions import db
from ..reference.services import items
from . import bp, reading, services
from .forms import ImportForm

MAX_ERRORS_SHOWN = 200


@bp.context_processor
def _limits():
    return {"import_max_rows": format_number(current_app.config["IMPORT_MAX_ROWS"])}


def _organisation():
    if current_user.organisation is None:
        abort(403)
    return current_user.organisation


@bp.route("/import")
def index():
    _organisation()
    return render_template("imports/index.html", form=ImportForm(), report=None)


@bp.route("/import", methods=["POST"])
def upload():
    organisation = _organisation()
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("imports/index.html", form=form, report=None), 400
    upload_ = form.file.data
    try:
        rows = reading.read_rows(upload_.read(), upload_.filename,
                                 current_app.config["IMPORT_MAX_ROWS"])
    except ValidationError as error:
        form.file.errors = list(error.errors.values())
        status = 413 if isinstance(error, TooLarge) else 400
        return render_template("imports/index.html", form=form, report=None), status
    report = services.import_contacts(rows, organisation, current_user, partial=form.partial.data,
                                      source=upload_.filename or "")
    if report.errors and not form.partial.data:
        db.session.rollback()
        return render_template("imports/index.html", form=form, report=report,
                               limit=MAX_ERRORS_SHOWN), 422
    db.session.commit()
    flash(
        _("%(created)s contacts importés, %(already)s déjà présents, %(rejected)s lignes rejetées.",
          created=report.created, already=report.already, rejected=report.total - report.valid),
        "success")
    if report.errors:
        return render_template("imports/index.html", form=ImportForm(), report=report,
                               limit=MAX_ERRORS_SHOWN)
    return redirect(url_for(".index"))


@bp.route("/import/modele.<fmt>")
def template(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    if fmt == "csv":
        return Response(reading.template_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; '
                                                        'filename="modele-contacts.csv"'})
    data = reading.template_xlsx(_codes())
    return Response(data,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="modele-contacts.xlsx"'})


def _codes():
    from ..models import Sector, Team
    org = _organisation()
    teams = db.session.execute(
        db.select(Team.code, Team.name).filter_by(organisation_id=org.id)).all()
    sectors = db.session.execute(
        db.select(Sector.code, Sector.label).order_by(Sector.position)).all()
    codes = {"team": teams, "sector": sectors}
    for column, kind in (("living_situation", "living_situation"), ("products", "product"),
                         ("needs", "need"),
                         ("materials", "material"), ("orientation", "destination"),
                         ("programme", "programme")):
        codes[column] = [(i.code, i.label) for i in items(kind)]
    return codes
