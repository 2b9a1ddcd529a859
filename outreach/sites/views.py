from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import allow, is_plan_level, plan_level
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..indicators.suppression import display, legend
from ..models import Sector, utcnow
from ..shifts.services import is_uuid, local_date, open_shift_for
from ..site_models import Site
from . import bp, coordination, figures, services
from .forms import (
    COUNT_LABELS,
    DecisionForm,
    DoneForm,
    MeetingForm,
    ObservationForm,
    PartnersForm,
    SiteForm,
)
from .map import CREDIT, build_map


def _sectors():
    return db.session.execute(
        db.select(Sector).order_by(Sector.position, Sector.id)).scalars().all()


def _site_form(site=None, formdata=None):
    form = SiteForm(formdata=formdata, obj=site, prefix=f"s{site.id}" if site else "new")
    return form.with_choices(services.list_site_types(), _sectors())


def _register(status=200, errors=None):
    sites = services.list_sites()
    return render_template("sites/index.html", sites=sites, can_edit=is_plan_level(current_user),
                           new_form=_site_form(), edit_forms={s.id: _site_form(s) for s in sites},
                           errors=errors or {}), status


@bp.get("/sites")
def index():
    return _register()


def _failed(errors):
    db.session.rollback()
    flash(_("Rien n'a été enregistré : %(e)s", e=" ".join(
        f"{k} : {' '.join(map_text(v))}" for k, v in errors.items())), "error")
    return _register(422, errors)


def map_text(value):
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@bp.post("/sites")
@plan_level
def add():
    form = _site_form(formdata=request.form)
    if not form.validate_on_submit():
        return _failed(form.errors)
    try:
        site = services.add_site(form.code.data, form.values())
    except ValidationError as exc:
        return _failed(exc.errors)
    db.session.commit()
    flash(_("Site « %(name)s » ajouté.", name=site.name), "success")
    return redirect(url_for("sites.index", _anchor=f"site-{site.code}"))


@bp.post("/sites/<int:site_id>")
@plan_level
def edit(site_id):
    site = db.session.get(Site, site_id) or abort(404)
    form = _site_form(site, formdata=request.form)
    if not form.validate_on_submit():
        return _failed(form.errors)
    try:
        services.update_site(site, form.values())
    except ValidationError as exc:
        return _failed(exc.errors)
    db.session.commit()
    flash(_("Site « %(name)s » enregistré.", name=site.name), "success")
    return redirect(url_for("sites.index", _anchor=f"site-{site.code}"))


# --- the map --------------------------------------------------------------------------------------

@bp.get("/sites/carte")
def map_page():
    today = local_date(utcnow())
    period = figures.period_ending(today)
    sites = services.list_sites(active_on=today)
    rows = figures.site_figures(sites, current_user, period)
    return render_template("sites/map.html", view=build_map(rows), rows=rows, period=period,
                           arrondissements=figures.arrondissement_figures(sites, current_user,
                                                                          period),
                           show=display, legend=legend(current_user), credit=CREDIT)


# --- observations during a shift ------------------------------------------------------------------

def observation_panel(shift):
    """What the shift page shows: the form for an open shift of one's own, and the observations
    recorded."""
    if shift is None or current_user.role not in ("worker", "supervisor"):
        return None
    form = ObservationForm(formdata=None).with_sites(_sites_for(shift))
    partners = PartnersForm(formdata=None).with_choices(
        coordination.list_partners(active_only=True))
    partners.partners.data = [p.id for p in coordination.partners_of(shift)]
    return {"form": form, "observations": services.observations_of_shift(shift, current_user),
            "partners": partners}


def observation_form_today():
    """The observation form for a shift started offline (still on the phone): the sites active
    today."""
    if current_user.role not in ("worker", "supervisor"):
        return None
    return ObservationForm(formdata=None).with_sites(
        services.list_sites(active_on=local_date(utcnow())))


def _sites_for(shift):
    """The sites active on the shift's date, those of its sectors first."""
    sectors = {s.id for s in shift.sectors}
    return sorted(services.list_sites(active_on=shift.shift_on),
                  key=lambda s: s.sector_id not in sectors)


@bp.app_context_processor
def _helpers():
    return {"site_observation_panel": observation_panel,
            "site_observation_form_today": observation_form_today,
            "site_observations_of":
                lambda shift: services.observations_of_shift(shift, current_user),
            "shift_partners_of": coordination.partners_of,
            "late_coordination_decisions":
                lambda: coordination.late_decisions(local_date(utcnow())),
            "site_count_labels": COUNT_LABELS}


@bp.post("/maraude/<shift_id>/sites")
@allow("worker", "supervisor")
def observe(shift_id):
    shift = services.own_shift(shift_id if is_uuid(shift_id) else None, current_user)
    if shift is None:
        abort(404)
    form = ObservationForm().with_sites(_sites_for(shift))
    if not form.validate_on_submit():
        return _observe_page(shift, form, 422)
    try:
        services.record_site_observation(shift, current_user, form.data_for_service())
    except ValidationError as exc:
        db.session.rollback()
        return _observe_page(shift, form, 422, exc.errors)
    except Forbidden as exc:
        db.session.rollback()
        return _observe_page(shift, form, 409, {"shift_id": str(exc)})
    db.session.commit()
    flash(_("Observation du site enregistrée."), "success")
    return redirect(url_for("shifts.current", _anchor="site-observations")
                    if shift == open_shift_for(current_user)
                    else url_for("sites.index"))


def _observe_page(shift, form, status, errors=None):
    errors = {**{k: " ".join(map_text(v)) for k, v in form.errors.items()}, **(errors or {})}
    return render_template("sites/observe.html", shift=shift, form=form, errors=errors,
                           observations=services.observations_of_shift(shift, current_user)), status


# --- working together -----------------------------------------------------------------------------

COORDINATION_READERS = ("supervisor", "manager", "admin")


def _actions():
    from ..models import PlanAction
    return db.session.execute(
        db.select(PlanAction).order_by(PlanAction.axis_id, PlanAction.position)).scalars().all()


def _coordination_page(status=200, errors=None, meeting_form=None):
    from ..models import Organisation
    organisations = db.session.execute(
        db.select(Organisation).order_by(Organisation.name)).scalars().all()
    return render_template(
        "sites/coordination.html", meetings=coordination.list_meetings(), errors=errors or {},
        late=coordination.late_decisions(local_date(utcnow())), today=local_date(utcnow()),
        can_edit=is_plan_level(current_user),
        decision_form=DecisionForm(formdata=None).with_choices(_actions()),
        meeting_form=meeting_form or MeetingForm(formdata=None).with_choices(organisations),
        done_form=DoneForm(formdata=None)), status


def _coordination_failed(errors):
    db.session.rollback()
    return _coordination_page(422, {k: " ".join(map_text(v)) for k, v in errors.items()})


@bp.get("/coordination")
@allow(*COORDINATION_READERS)
def coordination_index():
    return _coordination_page()


@bp.post("/coordination")
@plan_level
def record_meeting():
    from ..models import Organisation
    organisations = db.session.execute(
        db.select(Organisation).order_by(Organisation.name)).scalars().all()
    form = MeetingForm().with_choices(organisations)
    decision = DecisionForm().with_choices(_actions())
    if not form.validate_on_submit():
        return _coordination_failed(form.errors)
    try:
        meeting = coordination.record_meeting(current_user, form.held_on.data, form.title.data,
                                              form.organisations.data)
        if decision.text.data:
            if not decision.validate(extra_validators=None):
                return _coordination_failed(decision.errors)
            coordination.add_decision(meeting, current_user, decision.text.data, decision.action(),
                                      decision.follow_up_on.data)
    except ValidationError as exc:
        return _coordination_failed(exc.errors)
    db.session.commit()
    flash(_("Réunion enregistrée."), "success")
    return redirect(url_for("sites.coordination_index", _anchor=f"meeting-{meeting.id}"))


@bp.post("/coordination/<int:meeting_id>/decisions")
@plan_level
def add_decision(meeting_id):
    from ..site_models import CoordinationMeeting
    meeting = db.session.get(CoordinationMeeting, meeting_id) or abort(404)
    form = DecisionForm().with_choices(_actions())
    if not form.validate_on_submit():
        return _coordination_failed(form.errors)
    try:
        coordination.add_decision(meeting, current_user, form.text.data, form.action(),
                                  form.follow_up_on.data)
    except ValidationError as exc:
        return _coordination_failed(exc.errors)
    db.session.commit()
    flash(_("Décision ajoutée."), "success")
    return redirect(url_for("sites.coordination_index", _anchor=f"meeting-{meeting.id}"))


@bp.post("/coordination/decisions/<int:decision_id>/fait")
@plan_level
def decision_done(decision_id):
    from ..site_models import CoordinationDecision
    decision = db.session.get(CoordinationDecision, decision_id) or abort(404)
    form = DoneForm()
    if not form.validate_on_submit():
        return _coordination_failed(form.errors)
    try:
        coordination.mark_decision_done(decision, current_user, form.done_on.data)
    except ValidationError as exc:
        return _coordination_failed(exc.errors)
    db.session.commit()
    flash(_("Suivi enregistré."), "success")
    return redirect(url_for("sites.coordination_index", _anchor=f"meeting-{decision.meeting_id}"))


@bp.post("/maraude/<shift_id>/partenaires")
@allow("worker", "supervisor")
def shift_partners(shift_id):
    shift = services.own_shift(shift_id if is_uuid(shift_id) else None, current_user)
    if shift is None:
        abort(404)
    form = PartnersForm().with_choices(coordination.list_partners(active_only=True))
    if not form.validate_on_submit():
        flash(_("Partenaire inconnu."), "error")
        return redirect(url_for("shifts.current")), 303
    try:
        coordination.set_shift_partners(shift, current_user, form.partners.data or [])
    except (ValidationError, Forbidden) as exc:
        db.session.rollback()
        flash(" ".join(map_text(getattr(exc, "errors", None) or str(exc))), "error")
        return redirect(url_for("shifts.current")), 303
    db.session.commit()
    flash(_("Partenaires présents enregistrés."), "success")
    return redirect(url_for("shifts.current", _anchor="shift-partners"))
