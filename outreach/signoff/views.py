"""Thin views: the months of one's organisation (or of every organisation, for the plan) and the
four steps."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import allow, can_see_organisation, is_plan_level, plan_level
from ..extensions import db
from ..labels import MONTH_STATE
from ..models import Organisation
from ..views import attempt
from . import bp, forms, services


def _page(status=200, errors=None, posted=None):
    months = services.recent_months()
    return render_template("signoff/index.html", overview=services.overview(current_user, months),
                           months=months,
                           awaiting=services.awaiting(current_user), states=MONTH_STATE,
                           errors=errors or {}, posted=posted or {},
                           is_plan=is_plan_level(current_user), can_reopen=services.can_reopen,
                           signs=(current_user.role == "admin"
                                  and current_user.organisation_id is not None),
                           current_month=services.current_month()), status


@bp.get("/")
def index():
    return _page()


def _month_of(organisation_id, month_text):
    """(organisation, first day of the month) or 404: unknown, not a month, or another
    organisation's."""
    month = services.parse_month(month_text)
    organisation = db.session.get(Organisation, organisation_id)
    if (month is None or organisation is None
        or not can_see_organisation(current_user, organisation.id)):
        abort(404)
    return organisation, month


def _step(write, success, anchor):
    def refused(errors, status):
        return _page(status, errors, {**request.form, "anchor": anchor})
    _done, refusal = attempt(write, refused, "month")
    if refusal:
        return refusal
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("signoff.index", _anchor=anchor))


def _anchor(organisation, month):
    return f"month-{organisation.id}-{month.isoformat()[:7]}"


@bp.post("/<int:organisation_id>/<month_text>/signer")
@allow("admin")
def sign_off(organisation_id, month_text):
    organisation, month = _month_of(organisation_id, month_text)
    return _step(lambda: services.sign_off_month(current_user, organisation.id, month),
                 _("Mois signé : il attend l'acceptation d'un·e pilote du plan."),
                 _anchor(organisation, month))


def _signed(organisation, month):
    return services.get_signoff(organisation.id, month, lock=True)


@bp.post("/<int:organisation_id>/<month_text>/accepter")
@plan_level
def accept(organisation_id, month_text):
    organisation, month = _month_of(organisation_id, month_text)
    return _step(lambda: services.accept_month(current_user, _signed(organisation, month)),
                 _("Mois accepté."), _anchor(organisation, month))


@bp.post("/<int:organisation_id>/<month_text>/renvoyer")
@plan_level
def send_back(organisation_id, month_text):
    organisation, month = _month_of(organisation_id, month_text)
    return _step(lambda: services.return_month(current_user, _signed(organisation, month),
                                               forms.posted_text(request.form, "comment")),
                 _("Mois renvoyé à l'organisation avec votre commentaire."),
                 _anchor(organisation, month))


@bp.post("/<int:organisation_id>/<month_text>/rouvrir")
@allow("manager", "admin")
def reopen(organisation_id, month_text):
    organisation, month = _month_of(organisation_id, month_text)
    return _step(lambda: services.reopen_month(current_user, _signed(organisation, month),
                                               forms.posted_text(request.form, "reason")),
                 _("Mois rouvert : les corrections sont de nouveau possibles."),
                 _anchor(organisation, month))


@bp.app_template_global("month_states")
def month_states(months, organisation_id=None):
    """{month: state} of the figures of ``months`` (the dashboard and the exports label each
    month)."""
    return services.month_states(months, organisation_id)


@bp.app_template_global("month_state_labels")
def month_state_labels():
    return MONTH_STATE


@bp.app_template_global("month_label")
def month_label(month):
    from ..indicators.services import month_label as label
    return label(month)


@bp.app_template_global("period_month_states")
def period_month_states(period, filters):
    """[(month, label, state)] of the months of a dashboard period, for its filters'
    organisation."""
    return services.period_states(period, filters)
