"""Sites, their types and observations per site visit. Functions never commit; every change is
audited.

One home for each rule: the HTML form, the JSON API and the seed all call
``record_site_observation``, and the register's pages call ``add_site`` / ``update_site``.
"""
import datetime as dt
import re

from flask_babel import gettext as _

from .. import audit
from ..access import can_log_on, get_scoped, scoped
from ..errors import Forbidden, ValidationError
from ..extensions import db
from ..models import Sector, Shift, utcnow
from ..shifts.services import local_date, lock_shift, to_utc
from ..site_models import AMBIANCES, OBSERVATION_COUNTS, Site, SiteObservation, SiteType
from . import defaults

MAX_COUNT = 1000
_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
SITE_FIELDS = ("name", "type_id", "arrondissement", "sector_id", "active_from", "active_until",
               "latitude", "longitude")
# Paris with a margin: a point outside is a typing error (latitude and longitude swapped, a missing
# digit)
LATITUDES, LONGITUDES = (48.80, 48.92), (2.22, 2.48)


# --- defaults -------------------------------------------------------------------------------------

def ensure_site_defaults():
    """Insert the default site types and named sites that are missing; never overwrite an edit."""
    types = {t.code: t for t in db.session.execute(db.select(SiteType)).scalars()}
    for position, (code, label, label_en) in enumerate(defaults.SITE_TYPES):
        if code not in types:
            types[code] = SiteType(code=code, label=label, label_en=label_en, position=position)
            db.session.add(types[code])
    sectors = dict(db.session.execute(db.select(Sector.code, Sector.id)).all())
    known = set(db.session.execute(db.select(Site.code)).scalars())
    for code, name, type_code, arrondissement, sector, since, lat, lon in defaults.SITES:
        if code not in known and sector in sectors:
            db.session.add(
                Site(code=code, name=name, type=types[type_code], arrondissement=arrondissement,
                     sector_id=sectors[sector], latitude=lat, longitude=lon,
                     active_from=dt.date.fromisoformat(since) if since else None))
    db.session.flush()


# --- the register ---------------------------------------------------------------------------------

def list_sites(active_on=None):
    query = db.select(Site).options(db.joinedload(Site.type), db.joinedload(Site.sector)).order_by(
        Site.arrondissement, Site.name)
    found = db.session.execute(query).scalars().all()
    return [s for s in found if active_on is None or s.is_active_on(active_on)]


def list_site_types(active_only=False):
    query = db.select(SiteType).order_by(SiteType.position, SiteType.id)
    if active_only:
        query = query.filter_by(is_active=True)
    return db.session.execute(query).scalars().all()


def _check_site(values):
    """Cross-field rules of a site (the database backs them with CHECK constraints)."""
    if not (values.get("name") or "").strip():
        raise ValidationError({"name": _("Le nom du site est obligatoire.")})
    if db.session.get(SiteType, values.get("type_id") or 0) is None:
        raise ValidationError({"type_id": _("Type de site inconnu.")})
    if db.session.get(Sector, values.get("sector_id") or 0) is None:
        raise ValidationError({"sector_id": _("Secteur inconnu.")})
    if not isinstance(values.get("arrondissement"), int) or not 1 <= values["arrondissement"] <= 20:
        raise ValidationError({"arrondissement": _("Arrondissement entre 1 et 20.")})
    since, until = values.get("active_from"), values.get("active_until")
    if since and until and until < since:
        raise ValidationError(
            {"active_until": _("La fin de la période d'activité précède son début.")})
    _check_coordinates(values.get("latitude"), values.get("longitude"))
    values["name"] = values["name"].strip()
    return values


def _check_coordinates(lat, lon):
    if (lat is None) != (lon is None):
        raise ValidationError(
            {"longitude": _("Latitude et longitude vont ensemble : les deux ou aucune.")})
    if lat is not None and not LATITUDES[0] <= lat <= LATITUDES[1]:
        raise ValidationError({"latitude": _("Latitude hors de Paris (48,80 à 48,92).")})
    if lon is not None and not LONGITUDES[0] <= lon <= LONGITUDES[1]:
        raise ValidationError({"longitude": _("Longitude hors de Paris (2,22 à 2,48).")})


def add_site(code, values):
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        raise ValidationError({"code": _("Code : lettres minuscules, chiffres et _ (40 au plus).")})
    if db.session.execute(db.select(Site.id).filter_by(code=code)).first():
        raise ValidationError({"code": _("Ce code de site existe déjà.")})
    site = Site(code=code,
                **{k: v for k, v in _check_site(dict(values)).items() if k in SITE_FIELDS})
    db.session.add(site)
    db.session.flush()
    audit.record("site_added", target=site, after=code, organisation_id=None)
    return site


def update_site(site, values):
    values = _check_site(dict(values))
    for field in SITE_FIELDS:
        if getattr(site, field) != values.get(field):
            audit.record("site_changed", target=site, field=field, before=getattr(site, field),
                         after=values.get(field), details={"code": site.code}, organisation_id=None)
            setattr(site, field, values.get(field))
    db.session.flush()
    return site


# --- observations ---------------------------------------------------------------------------------

def _check_shift(shift, user):
    if not can_log_on(shift, user):
        raise ValidationError({"shift_id": _("Maraude inconnue.")})
    lock_shift(shift)  # a close committed meanwhile must be seen: nothing lands in a closed shift
    if not shift.is_open:
        raise Forbidden(_("La maraude est close."))


def _site(site_id, day):
    site = db.session.get(Site, site_id) if isinstance(site_id, int) else None
    if site is None:
        raise ValidationError({"site": _("Site inconnu.")})
    if not site.is_active_on(day):
        raise ValidationError({"site": _("Ce site n'est pas actif à la date de la maraude.")})
    return site


def _observed_at(value, shift):
    value = to_utc(value) if value is not None else utcnow()
    if not isinstance(value, dt.datetime):
        raise ValidationError({"observed_at": _("Heure invalide.")})
    if (value < shift.started_at - dt.timedelta(minutes=5)
        or value > utcnow() + dt.timedelta(hours=1)):
        raise ValidationError({"observed_at": _("Heure hors de la maraude.")})
    return value


def _counts(data):
    counts = {}
    for name in OBSERVATION_COUNTS:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise ValidationError({name: _("Nombre entier entre 0 et %(n)s attendu.", n=MAX_COUNT)})
        counts[name] = value
    return counts


def _ambiance(value):
    if value not in (None, *AMBIANCES):
        raise ValidationError({"ambiance": _("Ambiance inconnue.")})
    return value


def _police(value):
    if value is not None and not isinstance(value, bool):
        raise ValidationError({"police_presence": _("Oui, non ou non renseigné.")})
    return value


def record_site_observation(shift, user, data):
    """Validate and add one observation of a site visited during ``shift`` (open, of the user's
    organisation).

    ``data``: id (UUID string, optional), site_id, observed_at (datetime, optional), the counts of
    ``OBSERVATION_COUNTS``, ambiance (code or None), police_presence (True, False or None)."""
    _check_shift(shift, user)
    observed_at = _observed_at(data.get("observed_at"), shift)
    observation = SiteObservation(
        id=data.get("id") or None, shift=shift, organisation_id=shift.organisation_id,
        team_id=shift.team_id,
        site=_site(data.get("site_id"), shift.shift_on), observed_at=observed_at,
        observed_on=local_date(observed_at), ambiance=_ambiance(data.get("ambiance")),
        police_presence=_police(data.get("police_presence")), created_by_id=user.id,
        **_counts(data))
    db.session.add(observation)
    db.session.flush()
    audit.record("site_observation_recorded", actor=user, target=observation,
                 details={"site": observation.site.code, "shift_id": shift.id})
    return observation


def observations_of_shift(shift, user):
    """A shift's observations ``user`` sees (``access.scoped``: its organisation's, and a worker's
    own teams'), for the review summary and the shift page."""
    if shift is None:
        return []
    query = scoped(db.select(SiteObservation).filter_by(shift_id=shift.id), SiteObservation, user)
    return db.session.execute(query.options(db.joinedload(SiteObservation.site))
                              .order_by(SiteObservation.observed_at)).scalars().all()


def get_observation(observation_id, user):
    """The observation if ``user`` sees it (``access.get_scoped``), else None."""
    return get_scoped(SiteObservation, observation_id, user)


def own_shift(shift_id, user):
    return get_scoped(Shift, shift_id or None, user)
