from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import is_plan_level, plan_level
from ..errors import ValidationError
from ..extensions import db
from . import bp
from .editing import KIND_LABELS, add_item, all_lists, get_item, update_item
from .forms import AddItemForm, EditItemForm


def _page(status=200, errors=None):
    return render_template("reference/index.html", lists=all_lists(), labels=KIND_LABELS,
                           can_edit=is_plan_level(current_user),
                           add_form=AddItemForm(formdata=None),
                           edit_form=EditItemForm(formdata=None),
                           errors=errors or {}), status


@bp.route("/admin/listes")
def index():
    return _page()


def _fail(kind, form_errors):
    db.session.rollback()
    errors = " ".join(f"{k} : {' '.join(map(str, v)) if isinstance(v, list) else v}"
                      for k, v in form_errors.items())
    flash(_("Rien n'a été enregistré : %(e)s", e=errors), "error")
    return _page(422, {kind: form_errors})


@bp.route("/admin/listes/<kind>", methods=["POST"])
@plan_level
def add(kind):
    form = AddItemForm()
    get_kind = KIND_LABELS.get(kind)
    if get_kind is None:
        return _page(404)
    if not form.validate_on_submit():
        return _fail(kind, form.errors)
    try:
        add_item(kind, form.code.data, form.label.data, form.label_en.data)
    except ValidationError as exc:
        return _fail(kind, exc.errors)
    db.session.commit()
    flash(_("Élément ajouté."), "success")
    return redirect(url_for("reference.index", _anchor=kind))


@bp.route("/admin/listes/<kind>/<int:item_id>", methods=["POST"])
@plan_level
def edit(kind, item_id):
    item = get_item(kind, item_id)
    form = EditItemForm()
    if not form.validate_on_submit():
        return _fail(kind, form.errors)
    try:
        update_item(item, form.label.data, form.label_en.data, form.position.data,
                    form.is_active.data)
    except ValidationError as exc:
        return _fail(kind, exc.errors)
    db.session.commit()
    flash(_("Élément « %(code)s » enregistré.", code=item.code), "success")
    return redirect(url_for("reference.index", _anchor=kind))
