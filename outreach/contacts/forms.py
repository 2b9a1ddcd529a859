"""Parse the plain-POST contact form (field names in CONTRACT.md) into service data.

Raw pseudonym inputs are read once to compute the digest and never kept."""
import datetime as dt

from flask_babel import gettext as _

from .. import contract
from ..errors import ValidationError
from ..pseudonyms import inputs
from ..pseudonyms import services as pseudonyms
from ..reference import services as reference
from ..shifts.services import local_date

# the sex is the contact's own field
RAW_FIELDS = tuple(field for field, _label, _help in inputs.INPUTS)
MAX_VALUE = 200


def check_values(form):
    """Refuse NUL bytes (PostgreSQL cannot store them) and oversized values, naming the field."""
    for name in form:
        for value in form.getlist(name):
            if "\x00" in value:
                raise ValidationError({name[:40]: _("Caractère invalide.")})
            if len(value) > MAX_VALUE:
                raise ValidationError({name[:40]: _("Valeur trop longue.")})


def parse_int(form, name, default=0):
    raw = (form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: _("Nombre entier attendu.")}) from None


def parse_time(form, name, day_of):
    """HH:MM, Paris time (the contract's rule for a time without a zone), on the Paris date nearest
    ``day_of`` (naive UTC) -> naive UTC."""
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        clock = dt.time.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: _("Heure invalide (HH:MM).")}) from None
    local_ref = local_date(day_of)
    value = contract.local_to_utc(local_ref, clock)
    if value < day_of - dt.timedelta(hours=12):
        value = contract.local_to_utc(local_ref + dt.timedelta(days=1), clock)
    return value


def codes(form, name, kind):
    ids = reference.codes_to_ids(kind)
    values = form.getlist(name)
    if any(v not in ids for v in values):
        raise ValidationError({name: _("Valeur inconnue.")})
    return [ids[v] for v in values]


def one_code(form, name, kind):
    found = codes(form, name, kind)
    return found[0] if found else None


def quantities(form, prefix):
    return {item_id: parse_int(form, prefix + code)
            for code, item_id in reference.codes_to_ids("material").items()
            if form.get(prefix + code)}


def sector_id(form):
    code = form.get("sector")
    if not code:
        return None
    sector_id = reference.codes_to_ids("sector").get(code)  # this process's copy, no SQL
    if sector_id is None:
        raise ValidationError({"sector": _("Secteur inconnu.")})
    return sector_id


def person_digest(form):
    """The posted digest, or the one computed from the raw inputs (no-JS); (digest, is_weak).

    No inputs at all gives (None, False); whether a code is required (a new known contact) or
    forbidden (anonymous, refusal) is the contract's rule, applied by the service."""
    if form.get("digest"):
        return form["digest"], form.get("is_weak") in ("1", "true", "on")
    raw = [form.get(name, "") for name in RAW_FIELDS]
    if not any(v.strip() for v in raw[:3]):
        return None, False
    return pseudonyms.digest_from_inputs(*raw)


def orientations(form):
    ids = reference.codes_to_ids("destination")
    return [(item_id, bool(form.get("accompanied-" + code))) for code, item_id in ids.items()
            if form.get("orientation-" + code) or form.get("accompanied-" + code)]


def referrals(form):
    return [item_id for code, item_id in reference.codes_to_ids("programme").items()
            if form.get("referral-" + code)]


def contact_data(form, shift):
    check_values(form)
    kind = form.get("kind")
    if not kind:
        raise ValidationError({"kind": _("Choisissez le type de contact.")})
    data = {"id": form.get("id") or None, "kind": kind,
            "occurred_at": parse_time(form, "occurred_at", shift.started_at),
            "sector_id": sector_id(form),
            "people_count": parse_int(form, "people_count", 1), "sex": form.get("sex") or None,
            "age_band": form.get("age_band") or None,
            "living_situation_id": one_code(form, "living_situation", "living_situation"),
            "product_ids": codes(form, "products", "product"),
            "need_ids": codes(form, "needs", "need"),
            "materials": quantities(form, "material-"), "orientations": orientations(form),
            "referral_programme_ids": referrals(form)}
    data["digest"], data["is_weak"] = person_digest(form)
    return data
