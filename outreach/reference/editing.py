"""Admin edits of reference lists: add, relabel, reorder, deactivate. Codes never change,
items are never deleted (old contacts keep pointing at them). Nothing here commits."""
import re

from flask import abort
from flask_babel import lazy_gettext as _l

from .. import audit
from ..errors import ValidationError
from ..extensions import db
from ..models import REF_KINDS, Partner, RefItem, Sector, SiteType

SECTOR = "sector"
# Lists with a table of their own (the same columns as ref_items, without ``kind``): sectors, and
# the site types and partners of issue 21, edited here like every list.
STANDALONE = {SECTOR: Sector, "site_type": SiteType, "partner": Partner}
KINDS = REF_KINDS + tuple(STANDALONE)
KIND_LABELS = {
    "living_situation": _l("Situations de logement"), "product": _l("Produits consommés"),
    "need": _l("Besoins exprimés"), "material": _l("Matériel de réduction des risques"),
    "destination": _l("Destinations d'orientation"), "programme": _l("Dispositifs d'hébergement"),
    "refusal_reason": _l("Motifs de refus"), "exit_reason": _l("Motifs de sortie"),
    SECTOR: _l("Secteurs"), "site_type": _l("Types de site"), "partner": _l("Partenaires"),
}
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
EDITABLE = ("label", "label_en", "position", "is_active")


def _model(kind):
    if kind not in KINDS:
        abort(404)
    return STANDALONE.get(kind, RefItem)


def all_lists():
    """{kind: [items]} for every list, two queries in all."""
    lists = {kind: [] for kind in KINDS}
    query = db.select(RefItem).order_by(RefItem.kind, RefItem.position, RefItem.id)
    for item in db.session.execute(query).scalars():
        lists[item.kind].append(item)
    for kind, model in STANDALONE.items():
        lists[kind] = db.session.execute(
            db.select(model).order_by(model.position, model.id)).scalars().all()
    return lists


def get_item(kind, item_id):
    item = db.session.get(_model(kind), item_id)
    if item is None or getattr(item, "kind", kind) != kind:
        abort(404)
    return item


def _clean_label(value, field, required=True):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _l("Le libellé est obligatoire.")})
    if len(value) > 120:
        raise ValidationError({field: _l("120 caractères au plus.")})
    return value or None


def add_item(kind, code, label, label_en=None):
    model = _model(kind)
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise ValidationError(
            {"code": _l("Code : lettres minuscules, chiffres et _ (40 au plus).")})
    keys = {"kind": kind, "code": code} if model is RefItem else {"code": code}
    if db.session.execute(db.select(model.id).filter_by(**keys)).first():
        raise ValidationError({"code": _l("Ce code existe déjà dans cette liste.")})
    last = db.session.execute(db.select(db.func.max(model.position)).filter_by(
        **({"kind": kind} if model is RefItem else {}))).scalar() or 0
    item = model(**keys, label=_clean_label(label, "label"),
                 label_en=_clean_label(label_en, "label_en", False), position=last + 1)
    db.session.add(item)
    db.session.flush()
    audit.record("reference_added", target=item, after=f"{kind}:{code}")
    return item


def update_item(item, label, label_en, position, is_active):
    values = {"label": _clean_label(label, "label"),
              "label_en": _clean_label(label_en, "label_en", False), "position": position,
              "is_active": bool(is_active)}
    for field in EDITABLE:
        if getattr(item, field) != values[field]:
            audit.record("reference_changed", target=item, field=field, before=getattr(item, field),
                         after=values[field], details={"code": item.code})
            setattr(item, field, values[field])
