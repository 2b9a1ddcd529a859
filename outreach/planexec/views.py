"""Thin views: read the form, call one service, commit, flash, redirect; else re-render with the
errors."""
from functools import partial

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from .. import audit, numbers
from ..access import plan_level
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..indicators.services import load_plan
from ..models import (
    ACTION_STATUSES,
    ActionMilestone,
    ActionStatusChange,
    PlaceCapacity,
    PopulationEstimate,
)
from ..numbers import number
from . import bp, card, export, measures, services
from .forms import (
    BudgetForm,
    BudgetImportForm,
    CapacityForm,
    EstimateForm,
    MilestoneDoneForm,
    MilestoneForm,
    StatusForm,
)


def _save(form, apply, success, target):
    """Post/Redirect/Get around one service call; returns a response, or None when the form must be
    re-shown."""
    if not form.validate_on_submit():
        flash(
            _("Le formulaire a expiré ou n'est pas valide (jeton CSRF). Rechargez la page et "
                "recommencez."),
            "error")
        return None
    try:
        apply()
    except ValidationError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            if name in form:
                form[name].errors = [message]
        flash(_("Rien n'a été enregistré : %(e)s", e=" ".join(map(str, exc.errors.values()))),
              "error")
        return None
    except Forbidden as exc:
        db.session.rollback()
        abort(403, str(exc))
    db.session.commit()
    flash(success, "success")
    return redirect(target)


def _register_page(form, apply, success, endpoint, template, context):
    """A dated register: GET lists it; POST records one entry (then back to the list) or re-shows
    the form with its errors (422)."""
    if request.method == "POST":
        done = _save(form, apply, success, url_for(endpoint))
        if done:
            return done
    return render_template(template, form=form,
                           **context()), 422 if request.method == "POST" else 200


def _period():
    try:
        return card.parse_period(request.args, card.today()), None
    except ValidationError as exc:
        return None, " ".join(map(str, exc.errors.values()))


# --- report card -------------------------------------------------------------------

@bp.route("/")
def card_page():
    period, error = _period()
    if error:
        flash(error, "error")
        return render_template("planexec/card.html", data=None, period=None), 422
    # the statuses' words translated once, not at each of the card's actions
    labels = {code: str(label) for code, label in card.STATUS_LABELS.items()}
    return render_template("planexec/card.html", data=card.report_card(period), period=period,
                           labels=labels, **_in_language())


def _in_language():
    """The page's number writers and ``_()`` with the language resolved once: looking it up again
    cost 6 µs a number and 30 µs a word (some 330 numbers and 80 words a card). ``gettext`` is
    what the template's ``_()`` calls, wrapped as Flask-Babel's global is."""
    formats = numbers.bound()
    return {**formats, "euros": partial(euros, fmt=formats["fmt"]),
            "gettext": _template_gettext(get_translations().ugettext)}


def _template_gettext(translate):
    """The template's ``_()`` bound to one language, as Jinja's newstyle gettext wraps Flask-Babel's
    (public APIs only): escaped where the template autoescapes, always a format string."""
    @pass_context
    def gettext(context, string, **variables):
        text = translate(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # nosec B704: our own catalogue's text, as Jinja's gettext marks it
        return text % variables
    return gettext


COMPARED_DATES = 4
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/tableau.<fmt>")
def card_file(fmt):
    """The report card as XLSX (a sheet per table, definitions first) or CSV (every table, one after
    another)."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    period, error = _period()
    data = card.report_card(period) if period else None
    if data is None:
        abort(422 if error else 404)
    audit.record("export.plan_card", actor=current_user,
                 details={"format": fmt, "from": period.first.isoformat(),
                          "to": period.last.isoformat()})
    db.session.commit()
    name = f"tableau-de-bord-du-plan-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(export.card_csv(data), mimetype="text/csv", headers=headers)
    return Response(export.card_xlsx(data), mimetype=XLSX, headers=headers)


# --- places ------------------------------------------------------------------------

def _capacity_form():
    form = CapacityForm()
    form.programme.choices = [(str(p.id), p.display_label) for p in services.programmes()]
    form.organisation.choices = [(str(o.id), o.name)
                                 for o in services.operator_choices(current_user)]
    return form


@bp.route("/places", methods=["GET", "POST"])
def places():
    form = _capacity_form()
    return _register_page(form, lambda: services.record_capacity(
        current_user, form.programme.data, form.organisation.data, form.starts_on.data,
        form.places.data,
        form.note.data), _("Capacité enregistrée."), "planexec.places", "planexec/places.html",
                          _capacity_history)


def _capacity_history():
    return {"history": db.session.execute(db.select(PlaceCapacity).order_by(
        PlaceCapacity.programme_id, PlaceCapacity.organisation_id, PlaceCapacity.starts_on.desc(),
        PlaceCapacity.id.desc())).scalars().all()}


# --- action progress -----------------------------------------------------------------

@bp.route("/actions")
def progress():
    """Statuses and late milestones on a date (``au``); more ``au`` dates add their counts side by
    side."""
    try:
        days = [services.parse_date(text, "au", _("Date"))
                for text in _filled(request.args.getlist("au"))[:COMPARED_DATES]]
    except ValidationError as exc:
        flash(" ".join(exc.errors.values()), "error")
        days, status = [], 422
    else:
        status = 200
    days = days or [card.today()]
    plan = load_plan()
    axes = card.progress(plan, days[0]) if plan else []
    compared = [(day, card.total_counts(card.progress(plan, day))) for day in days] if plan else []
    return render_template("planexec/progress.html", plan=plan, axes=axes, day=days[0],
                           labels=card.STATUS_LABELS,
                           counts=card.total_counts(axes), compared=compared), status


def _filled(values):
    return [v for v in values if v.strip()]


def _action_or_404(action_id):
    action = services.get_action(action_id)
    if action is None:
        abort(404)
    return action


def _status_form():
    form = StatusForm()
    form.status.choices = [(s, str(card.STATUS_LABELS[s])) for s in ACTION_STATUSES]
    return form


def _action_page(action, status_form=None, milestone_form=None, status=200):
    changes = db.session.execute(
        db.select(ActionStatusChange).filter_by(action_id=action.id).order_by(
        ActionStatusChange.effective_on.desc(), ActionStatusChange.id.desc())).scalars().all()
    milestones = db.session.execute(db.select(ActionMilestone).filter_by(action_id=action.id)
                                    .order_by(ActionMilestone.due_on)).scalars().all()
    return render_template("planexec/action.html", action=action, changes=changes,
                           milestones=milestones,
                           status_form=status_form or _status_form(),
                           milestone_form=milestone_form or MilestoneForm(),
                           done_form=MilestoneDoneForm(formdata=None), labels=card.STATUS_LABELS,
                           today=card.today()), status


@bp.route("/actions/<int:action_id>")
def action(action_id):
    return _action_page(_action_or_404(action_id))


@bp.route("/actions/<int:action_id>/statut", methods=["POST"])
@plan_level
def action_status(action_id):
    action = _action_or_404(action_id)
    form = _status_form()
    done = _save(form, lambda: services.record_action_status(
        current_user, action, form.status.data, form.effective_on.data, form.reason.data,
        form.evidence.data),
        _("Statut enregistré."), url_for("planexec.action", action_id=action.id))
    return done or _action_page(action, status_form=form, status=422)


@bp.route("/actions/<int:action_id>/jalons", methods=["POST"])
@plan_level
def milestone_add(action_id):
    action = _action_or_404(action_id)
    form = MilestoneForm()
    done = _save(form, lambda: services.add_milestone(
                     current_user, action, form.title.data, form.due_on.data,
                     form.created_on.data or card.today().isoformat()),
                 _("Jalon ajouté."), url_for("planexec.action", action_id=action.id))
    return done or _action_page(action, milestone_form=form, status=422)


@bp.route("/jalons/<int:milestone_id>/fait", methods=["POST"])
@plan_level
def milestone_done(milestone_id):
    milestone = db.session.get(ActionMilestone, milestone_id) or abort(404)
    form = MilestoneDoneForm()
    target = url_for("planexec.action", action_id=milestone.action_id)
    done = _save(form, lambda: services.complete_milestone(
                     current_user, milestone, form.done_on.data or card.today().isoformat()),
                 _("Jalon marqué comme réalisé."), target)
    return done or _action_page(milestone.action, status=422)


# --- budgets ------------------------------------------------------------------------

def _budget_form():
    form = BudgetForm()
    plan = load_plan()
    actions = [a for axis in plan.axes for a in axis.actions] if plan else []
    form.action.choices = [(str(a.id), f"{a.number} {a.title}") for a in actions]
    form.funder.choices = [(f.code, f.display_label) for f in services.funders()]
    return form


@bp.route("/budgets", methods=["GET", "POST"])
def budgets():
    form = _budget_form()
    return _register_page(form, lambda: services.save_budget_line(
        current_user, form.action.data, form.funder.data, form.year.data, form.planned.data,
        form.committed.data,
        form.spent.data), _("Ligne budgétaire enregistrée."), "planexec.budgets",
                          "planexec/budgets.html",
        _budget_tables)


def _budget_tables():
    lines = measures.budget_lines(0, 9999)
    return {"lines": lines, "budget": card.budget_section(lines),
            "import_form": BudgetImportForm(formdata=None)}


@bp.route("/budgets/import", methods=["POST"])
@plan_level
def budgets_import():
    form = BudgetImportForm()
    upload = form.file.data
    done = _save(
        form, lambda: services.import_budget_lines(current_user, upload.read() if upload else b""),
        _("Fichier de budget importé."), url_for("planexec.budgets"))
    if done:
        return done
    return render_template("planexec/budgets.html", form=_budget_form(),
                           **{**_budget_tables(), "import_form": form}), 422


@bp.route("/budgets.csv")
def budgets_csv():
    text = services.budget_csv(measures.budget_lines(0, 9999))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="budgets.csv"'})


@bp.route("/budgets.xlsx")
def budgets_xlsx():
    data = services.budget_xlsx(measures.budget_lines(0, 9999))
    return Response(data, mimetype=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="budgets.xlsx"'})


# --- population estimates ------------------------------------------------------------

@bp.route("/estimations", methods=["GET", "POST"])
def estimates():
    form = EstimateForm()
    return _register_page(form, lambda: services.record_estimate(
        current_user, form.estimated_on.data, form.area.data, form.low.data, form.high.data,
        form.source.data),
        _("Estimation enregistrée."), "planexec.estimates", "planexec/estimates.html",
                          _estimate_list)


def _estimate_list():
    rows = db.session.execute(
        db.select(PopulationEstimate).order_by(PopulationEstimate.estimated_on.desc(),
                                               PopulationEstimate.id.desc())).scalars().all()
    return {"rows": rows, "coverage": card.coverage(card.today())}


@bp.context_processor
def _formatting():
    return {"euros": euros, "definitions": card.DEFINITIONS,
            "engaged_count": lambda counts: sum(counts.get(s, 0) for s in card.ENGAGED)}


def euros(cents, fmt=number):
    """Whole euros, separated as the interface language writes them: 1 234 567 €."""
    return f"{fmt(round(cents / 100), 0)} €"
