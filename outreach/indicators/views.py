"""Thin views: parse the period and filters, call one service, render."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _
from flask_login import current_user

from .. import queryargs
from ..access import allow, is_plan_level, plan_level
from ..errors import TooLarge, ValidationError
from ..extensions import db
from ..models import Indicator, utcnow
from . import bp, charts, rollups, services
from .catalogue import current_plan, import_plan, parse, to_csv, to_yaml
from .forms import PlanUploadForm
from .rollups import add_months
from .suppression import legend


def _context():
    return queryargs.parse_period(request.args), queryargs.parse_filters(request.args, current_user)


def _bad_request(error):
    return render_template("indicators/invalid.html", errors=error.errors), 400


@bp.app_template_global("is_running")
def is_running(period):
    """True when ``period`` holds the month in progress (its figures are partial: "en cours")."""
    return period.end >= services.current_month().start


@bp.app_template_global("disclosure_legend")
def disclosure_legend():
    """What was done to the figures of this page, and why (every indicator page and export says
    it)."""
    return legend(current_user)


@bp.before_request
def figures_may_lag():
    """After a busy night these pages answer at once from the figures as they stand, and say
    their time (``figures_notice``) while the roll-ups catch up in the background."""
    rollups.figures_may_lag()


@bp.app_template_global("figures_notice")
def figures_notice():
    """The notice of a page whose figures do not include the latest writes yet, or None."""
    lag = rollups.figures_lag()
    if lag is None:
        return None
    as_of = lag["as_of"]
    if as_of is None:
        return _("Chiffres en cours de mise à jour : les dernières saisies n'y sont pas encore.")
    if format_date(as_of) == format_date(utcnow()):
        return _("Chiffres arrêtés à %(time)s : mise à jour en cours.",
                 time=format_time(as_of, "short"))
    return _("Chiffres arrêtés au %(moment)s : mise à jour en cours.",
             moment=format_datetime(as_of, "short"))


bp.add_app_template_global(charts.sparkline, "sparkline")
bp.add_app_template_global(charts.bars, "bars")


@bp.route("/indicateurs")
def dashboard():
    try:
        period, filters = _context()
    except ValidationError as error:
        return _bad_request(error)
    if period.kind == "last12":  # the month in progress apart, from the same evaluation
        plan, actions, running = services.dashboard(period, filters, current_user, running=True)
    else:
        (plan, actions), running = services.dashboard(period, filters, current_user), None
    months = [services.month_label(add_months(period.end, -i)) for i in range(11, -1, -1)]
    return render_template("indicators/dashboard.html", plan=plan, actions=actions, period=period,
                           running=running, spark_months=months,
                           filters=filters, choices=services.filter_choices(current_user),
                           add_months=add_months)


@bp.route("/indicateurs/<code>")
def indicator(code):
    item = db.session.execute(db.select(Indicator).filter_by(code=code)).scalar_one_or_none()
    if item is None:
        abort(404)
    try:
        period, filters = _context()
        by = request.args.get("by", "month")
        rows, total = services.breakdown(item, period, filters, current_user, by)
    except ValidationError as error:
        return _bad_request(error)
    return render_template("indicators/indicator.html", item=item, rows=rows, total=total, by=by,
                           period=period,
                           filters=filters, choices=services.filter_choices(current_user))


@bp.route("/parcours")
def funnel():
    try:
        period, filters = _context()
    except ValidationError as error:
        return _bad_request(error)
    data = services.funnel(period, filters, current_user)
    return render_template("indicators/funnel.html", data=data, period=period, filters=filters,
                           choices=services.filter_choices(current_user))


@bp.route("/plan")
@allow("manager", "supervisor", "admin")
def catalogue():
    plan = services.load_plan()
    form = PlanUploadForm()
    return render_template("indicators/catalogue.html", plan=plan, form=form,
                           can_import=is_plan_level(current_user))


def _catalogue_page(form):
    return render_template("indicators/catalogue.html", plan=services.load_plan(), form=form,
                           can_import=True)


@bp.route("/plan/import", methods=["POST"])
@plan_level
def catalogue_import():
    form = PlanUploadForm()
    if not form.validate_on_submit():
        return _catalogue_page(form), 400
    upload = form.file.data
    try:
        text = upload.read().decode("utf-8-sig")
        plan = import_plan(parse(text, upload.filename or ""), current_user, upload.filename or "")
    except UnicodeDecodeError:
        form.file.errors = [_("Le fichier doit être encodé en UTF-8.")]
        return _catalogue_page(form), 400
    except ValidationError as error:
        db.session.rollback()
        form.file.errors = list(error.errors.values())
        status = 413 if isinstance(error, TooLarge) else 400
        return _catalogue_page(form), status
    db.session.commit()
    flash(_("Plan « %(title)s » importé.", title=plan.title), "success")
    return redirect(url_for(".catalogue"))


@bp.route("/plan/export/<fmt>")
@allow("manager", "supervisor", "admin")
def catalogue_export(fmt):
    plan = current_plan()
    if plan is None or fmt not in ("yaml", "csv"):
        abort(404)
    if fmt == "csv":
        return Response(to_csv(plan), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{plan.code}.csv"'})
    return Response(to_yaml(plan), mimetype="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{plan.code}.yaml"'})
