"""Parse the plain-POST step form and the list filters into service arguments (codes -> ids)."""
import datetime as dt

from flask_babel import gettext as _

from ..errors import ValidationError
from ..reference import services as reference
from . import services


def _date(form):
    raw = (form.get("occurred_on") or "").strip()
    if not raw:
        return services.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"occurred_on": _("Date invalide (AAAA-MM-JJ).")}) from None


def _reason_id(form, status):
    code = (form.get("reason") or "").strip()
    kind = services.REASON_KINDS.get(status)
    if not code:
        return None
    ids = reference.codes_to_ids(kind) if kind else {}
    if code not in ids:
        raise ValidationError({"reason": _("Motif inconnu pour cette étape.")})
    return ids[code]


def step_data(form):
    """{"status", "occurred_on", "reason_id"} from the posted form; the date defaults to today."""
    status = (form.get("status") or "").strip()
    if status not in services.DATE_COLUMNS:
        raise ValidationError({"status": _("Étape inconnue.")})
    return {"status": status, "occurred_on": _date(form), "reason_id": _reason_id(form, status)}


def list_filters(args):
    """(programme_id, status) from the list's query string; unknown values are a 400 naming the
    field."""
    programme = args.get("programme") or None
    status = args.get("status") or None
    programme_id = None
    if programme is not None:
        programme_id = reference.codes_to_ids("programme").get(programme)
        if programme_id is None:
            raise ValidationError({"programme": _("Dispositif inconnu.")})
    if status is not None and status not in services.OPEN_STATES:
        raise ValidationError({"status": _("État inconnu.")})
    return programme_id, status
