"""Shifts (maraudes): start, close, find the open one. Functions never commit."""
import datetime as dt
import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, text

from .. import contract
from ..access import can_see
from ..errors import Conflict, Forbidden, ValidationError
from ..extensions import db
from ..models import RefItem, Sector, Shift, ShiftStock, Team, utcnow

PARIS = contract.TIME_ZONE
AMBIANCES = ("calme", "tendue", "agitee")
DUPLICATE_ID = _l("Identifiant de maraude déjà utilisé.")  # the API answers a replay itself (200)


local_date = contract.local_date


def local_clock(naive_utc):
    """HH:MM in Europe/Paris of a naive UTC datetime (what the forms show and take)."""
    return naive_utc.replace(tzinfo=dt.UTC).astimezone(PARIS).strftime("%H:%M")


def to_utc(value):
    """Aware -> naive UTC; naive values are taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def lock_shift(shift):
    """Hold ``shift`` until the transaction ends and re-read it, so a status check and the write it
    guards are atomic (a contact vs the close, a close vs a validation, two validations).

    PostgreSQL: SELECT ... FOR UPDATE on the row. SQLite ignores FOR UPDATE: a no-op UPDATE takes
    the database's single write lock first (pysqlite begins the transaction at the first write)."""
    state = inspect(shift)
    if not state.persistent:
        return shift  # created in this transaction: nobody else can see it yet
    if state.modified:
        db.session.flush()  # keep this transaction's own changes through the re-read
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE shifts SET status = status WHERE id = :id"),
                           {"id": shift.id})
    db.session.refresh(shift, with_for_update=True)
    return shift


def open_shift_for(user):
    query = db.select(Shift).filter_by(opened_by_id=user.id).where(Shift.is_open)
    return db.session.execute(query.order_by(Shift.started_at.desc())).scalars().first()


def is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# How long a closed shift stays on its worker's page, its contacts listed to be finished: the 48 h
# in which its supervisor is expected to validate it (DOMAIN.md, action 4.2); after that the
# supervisor corrects it, with a reason.
RECENT_CLOSED = dt.timedelta(hours=48)


def last_closed_shift_for(user, now=None):
    """The user's latest shift closed (not yet validated) in the last ``RECENT_CLOSED``: its
    contacts can still be edited from the shift page."""
    since = (now or utcnow()) - RECENT_CLOSED
    query = db.select(Shift).filter_by(opened_by_id=user.id).where(Shift.is_closed,
                                                                   Shift.closed_at >= since)
    return db.session.execute(query.order_by(Shift.started_at.desc())).scalars().first()


def start_choices(user):
    """What the start form proposes: (team, sector codes ticked, [(team, its active sectors)]). The
    team and sectors of the user's last shift when that team is still theirs (read from the shifts,
    so nothing that identifies anyone is kept on the phone); otherwise the first team, and every
    sector when there is one team. A sector shared by two teams is listed under the first."""
    teams = [t for t in user.teams if t.is_active] or list(user.teams)
    last = db.session.execute(db.select(Shift).filter_by(opened_by_id=user.id)
                              .order_by(Shift.started_at.desc()).limit(1)).scalars().first()
    team = last.team if last is not None and last.team in teams else (teams[0] if teams else None)
    groups, seen = [], set()
    for each in teams:
        sectors = [s for s in each.sectors if s.is_active and s.code not in seen]
        seen.update(s.code for s in sectors)
        groups.append((each, sectors))
    if last is not None and last.team is team:
        ticked = {s.code for s in last.sectors} & seen
    else:
        ticked = seen if len(teams) == 1 else set()
    return team, ticked, groups


def _check_uuid(value, field="id"):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError({field: _("Identifiant invalide (UUID attendu).")}) from None


def _user_team(user, team_id):
    team = db.session.get(Team, team_id) if isinstance(team_id, int) else None
    if team is None or team not in user.teams or not team.is_active:
        raise ValidationError({"team": _("Équipe inconnue ou dont vous n'êtes pas membre.")})
    return team


def _int(value, field, low=0, high=10000):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            {field: _("Nombre entier attendu entre %(low)s et %(high)s.", low=low, high=high)})
    return value


def _sectors(ids):
    sectors = (db.session.execute(db.select(Sector).where(Sector.id.in_(ids))).scalars().all()
               if ids else [])
    if len(sectors) != len(set(ids)):
        raise ValidationError({"sectors": _("Secteur inconnu.")})
    return sectors


def _materials(quantities, field):
    """{material_id: qty} checked against the material list; returns {RefItem: qty}."""
    ids = list(quantities or {})
    items = db.session.execute(db.select(RefItem).where(
        RefItem.kind == "material", RefItem.id.in_(ids))).scalars().all() if ids else []
    if len(items) != len(set(ids)):
        raise ValidationError({field: _("Matériel inconnu.")})
    return {item: _int(quantities[item.id], field) for item in items}


def start_shift(user, data):
    """Open a shift for one of the user's teams; one open shift per user."""
    if open_shift_for(user) is not None:
        raise Conflict(_("Une maraude est déjà ouverte."))
    team = _user_team(user, data.get("team_id"))
    started = to_utc(data.get("started_at") or utcnow())
    shift = Shift(id=_check_uuid(data["id"]) if data.get("id") else str(uuid.uuid4()),
                  organisation_id=team.organisation_id, team=team, opened_by_id=user.id,
                  started_at=started, shift_on=local_date(started), status="open",
                  staff_count=_int(data.get("staff_count", 1), "staff_count", 1, 50),
                  sectors=_sectors(data.get("sector_ids") or []))
    shift.staff = [user]
    for item, qty in _materials(data.get("stock_out"), "stock_out").items():
        if qty:
            shift.stock.append(ShiftStock(material=item, taken_out=qty, brought_back=0))
    db.session.add(shift)
    return shift


def _stock_back(shift, quantities):
    rows = {row.material_id: row for row in shift.stock}
    for item, qty in _materials(quantities, "stock_back").items():
        row = rows.get(item.id)
        if row is None:
            row = ShiftStock(material=item, taken_out=0)
            shift.stock.append(row)
        row.brought_back = qty


def check_can_close(shift, user):
    """The one rule for closing a shift, on the page and in the API: the worker who opened it, or a
    supervisor of its organisation (a shift left open at dawn). Anyone else: Forbidden."""
    if shift is None or not can_see(shift, user):
        raise ValidationError({"shift_id": _("Maraude inconnue.")})
    if shift.opened_by_id != user.id and user.role != "supervisor":
        raise Forbidden(_(
            "Seule la personne qui a ouvert la maraude, ou un·e coordinateur·rice, peut la clore."))


def close_shift(shift, user, data):
    """Close an open shift with its end time and territory observation."""
    check_can_close(shift, user)
    lock_shift(shift)
    if not shift.is_open:
        raise Conflict(_("Cette maraude est déjà close."))
    ended = to_utc(data.get("ended_at") or utcnow())
    if ended < shift.started_at:
        raise ValidationError({"ended_at": _("La fin précède le début de la maraude.")})
    ambiance = data.get("ambiance") or None
    if ambiance is not None and ambiance not in AMBIANCES:
        raise ValidationError({"ambiance": _("Ambiance inconnue.")})
    shift.ended_at, shift.closed_at, shift.status, shift.ambiance = (ended, utcnow(), "closed",
                                                                     ambiance)
    shift.police_presence = data.get("police_presence")
    for key in ("unapproached_women", "unapproached_men", "unapproached_other",
                "used_material_collected"):
        setattr(shift, key, _int(data.get(key) or 0, key))
    _stock_back(shift, data.get("stock_back"))
    return shift
