"""Parse the plain-POST shift start and close forms into service data."""
from flask_babel import gettext as _

from ..contacts.forms import check_values, parse_int, parse_time, quantities
from ..errors import ValidationError
from ..extensions import db
from ..models import Sector, utcnow


def _sector_ids(form):
    wanted = form.getlist("sectors")
    query = db.select(Sector.code, Sector.id).where(Sector.code.in_(wanted))
    rows = db.session.execute(query).all() if wanted else []
    if len(rows) != len(set(wanted)):
        raise ValidationError({"sectors": _("Secteur inconnu.")})
    return [sector_id for _code, sector_id in rows]


def start_data(form, user):
    check_values(form)
    team_code = form.get("team")
    team = next((t for t in user.teams if t.code == team_code), None)
    if team is None:
        raise ValidationError({"team": _("Choisissez une de vos équipes.")})
    return {"id": form.get("id") or None, "team_id": team.id,
            "started_at": parse_time(form, "started_at", utcnow()),
            # none ticked: the team's list
            "sector_ids": _sector_ids(form) or [s.id for s in team.sectors],
            "staff_count": parse_int(form, "staff_count", 1),
            "stock_out": quantities(form, "stock_out-")}


def close_data(form, shift):
    check_values(form)
    police = form.get("police_presence")
    return {"ended_at": parse_time(form, "ended_at", shift.started_at),
            "ambiance": form.get("ambiance") or None,
            "police_presence": None if not police else police in ("1", "true", "y", "oui", "on"),
            "unapproached_women": parse_int(form, "unapproached_women"),
            "unapproached_men": parse_int(form, "unapproached_men"),
            "unapproached_other": parse_int(form, "unapproached_other"),
            "used_material_collected": parse_int(form, "used_material_collected"),
            "stock_back": quantities(form, "stock_back-")}


