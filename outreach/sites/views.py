from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import allow, is_plan_level, plan_level
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..indicators.suppression import display, legend
from ..models import Sector, utcnow
from ..reference.forms import AddItemForm, EditItemForm
from ..shifts.services import is_uuid, local_date, open_shift_for
from ..site_models import Site, SiteType
from . import bp, figures, services
from .forms import COUNT_LABELS, ObservationForm, SiteForm
from .map import CREDIT, build_map


def _sectors():
    return db.session.execute(db.select(Sector).order_by(Sector.position, Sector.id)).scalars().all()


def _site_form(site=None, formdata=None):
    form = SiteForm(formdata=formdata, obj=site, prefix=f"s{site.id}" if site else "new")
    return form.with_choices(services.list_site_types(), _sectors())


def _register(status=200, errors=None):
    sites = services.list_sites()
    return render_template("sites/index.html", sites=sites, types=services.list_site_types(),
                           can_edit=is_plan_level(current_user), new_form=_site_form(),
                           edit_forms={s.id: _site_form(s) for s in sites},
                           type_form=AddItemForm(formdata=None), errors=errors or {}), status


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


@bp.post("/sites/types")
@plan_level
def add_type():
    form = AddItemForm()
    if not form.validate_on_submit():
        return _failed(form.errors)
    try:
        services.add_site_type(form.code.data, form.label.data, form.label_en.data)
    except ValidationError as exc:
        return _failed(exc.errors)
    db.session.commit()
    flash(_("Type de site ajouté."), "success")
    return redirect(url_for("sites.index", _anchor="types"))


@bp.post("/sites/types/<int:type_id>")
@plan_level
def edit_type(type_id):
    item = db.session.get(SiteType, type_id) or abort(404)
    form = EditItemForm()
    if not form.validate_on_submit():
        return _failed(form.errors)
    try:
        services.update_site_type(item, form.label.data, form.label_en.data, form.position.data, form.is_active.data)
    except ValidationError as exc:
        return _failed(exc.errors)
    db.session.commit()
    flash(_("Type « %(code)s » enregistré.", code=item.code), "success")
    return redirect(url_for("sites.index", _anchor="types"))


# --- the map --------------------------------------------------------------------------------------------

@bp.get("/sites/carte")
def map_page():
    today = local_date(utcnow())
    period = figures.period_ending(today)
    sites = services.list_sites(active_on=today)
    rows = figures.site_figures(sites, current_user, period)
    return render_template("sites/map.html", view=build_map(rows), rows=rows, period=period,
                           arrondissements=figures.arrondissement_figures(sites, current_user, period),
                           show=display, legend=legend(current_user), credit=CREDIT)


# --- observations during a shift --------------------------------------------------------------------------

def observation_panel(shift):
    """What the shift page shows: the form for an open shift of one's own, and the observations recorded."""
    if shift is None or current_user.role not in ("worker", "supervisor"):
        return None
    form = ObservationForm(formdata=None).with_sites(_sites_for(shift))
    return {"form": form, "observations": services.observations_of_shift(shift, current_user)}


def _sites_for(shift):
    """The sites active on the shift's date, those of its sectors first."""
    sectors = {s.id for s in shift.sectors}
    return sorted(services.list_sites(active_on=shift.shift_on), key=lambda s: s.sector_id not in sectors)


@bp.app_context_processor
def _helpers():
    return {"site_observation_panel": observation_panel,
            "site_observations_of": lambda shift: services.observations_of_shift(shift, current_user),
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
    return redirect(url_for("shifts.current", _anchor="site-observations") if shift == open_shift_for(current_user)
                    else url_for("sites.index"))


def _observe_page(shift, form, status, errors=None):
    errors = {**{k: " ".join(map_text(v)) for k, v in form.errors.items()}, **(errors or {})}
    return render_template("sites/observe.html", shift=shift, form=form, errors=errors,
                           observations=services.observations_of_shift(shift, current_user)), status
