"""Export endpoints: thin wrappers that parse the same arguments as the pages and audit each
export."""

from flask import Response, abort, render_template, request
from flask_login import current_user

from .. import audit, contract, queryargs
from ..access import allow
from ..errors import ValidationError
from ..extensions import db
from ..models import Indicator
from . import bp, rows, tables

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context():
    return queryargs.parse_period(request.args), queryargs.parse_filters(request.args, current_user)


def _separator():
    return "," if request.args.get("sep") in (",", "comma", "virgule") else ";"


def _check_format(fmt):
    if fmt not in FORMATS:
        abort(404)


def _send(fmt, name, sheets, indicators, period, filters, view):
    audit.record("export.indicators", actor=current_user, details={
        "view": view, "format": fmt, "from": period.start.isoformat(), "to": period.end.isoformat(),
        "filters": {k: v for k, v in filters.items() if v}})
    db.session.commit()
    filename = f"{name}-{period.start.isoformat()[:7]}-{period.end.isoformat()[:7]}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(tables.to_csv(sheets, _separator()), mimetype="text/csv", headers=headers)
    definitions = tables.definitions_sheet(indicators, period, filters, current_user)
    return Response(tables.to_xlsx(sheets, definitions), mimetype=XLSX, headers=headers)


def _invalid(error):
    return render_template("indicators/invalid.html", errors=error.errors), 400


@bp.route("/export/indicateurs.<fmt>")
@allow("manager", "supervisor")
def dashboard(fmt):
    _check_format(fmt)
    try:
        period, filters = _context()
    except ValidationError as error:
        return _invalid(error)
    sheets, indicators = tables.dashboard_sheets(period, filters, current_user)
    return _send(fmt, "indicateurs", sheets, indicators, period, filters, "dashboard")


@bp.route("/export/indicateurs/<code>.<fmt>")
@allow("manager", "supervisor")
def indicator(code, fmt):
    _check_format(fmt)
    if not queryargs.plausible_code(code):
        abort(404)
    item = db.session.execute(db.select(Indicator).filter_by(code=code)).scalar_one_or_none()
    if item is None:
        abort(404)
    try:
        period, filters = _context()
        sheets, indicators = tables.breakdown_sheets(item, period, filters, current_user,
                                                     request.args.get("by", "month"))
    except ValidationError as error:
        return _invalid(error)
    return _send(fmt, code, sheets, indicators, period, filters, f"indicator:{code}")


@bp.route("/export/parcours.<fmt>")
@allow("manager", "supervisor")
def funnel(fmt):
    _check_format(fmt)
    try:
        period, filters = _context()
    except ValidationError as error:
        return _invalid(error)
    sheets, indicators = tables.funnel_sheets(period, filters, current_user)
    return _send(fmt, "parcours", sheets, indicators, period, filters, "funnel")


@bp.route("/export/contacts.csv")
@allow("admin")
def contacts():
    organisation = current_user.organisation
    if organisation is None:
        abort(403)
    text = rows.export_contacts(organisation, current_user, _separator())
    db.session.commit()
    filename = f"contacts-{organisation.code}-{contract.local_today().isoformat()}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
