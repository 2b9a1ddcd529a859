"""The latest figures per site and per arrondissement: what the map and its table show, computed
once.

A reader sees their own organisation's observations exactly; plan managers and instance admins see
every organisation's, each count protected as every figure that leaves an organisation is
(``indicators.suppression.protect_count``: perturbed, withheld below the threshold). The map and the
table read the same ``SiteFigures`` rows, so they cannot disagree.
"""
import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func

from ..access import organisation_scope
from ..extensions import db
from ..indicators.suppression import protect_count, rules_for
from ..site_models import SiteObservation

WINDOW_DAYS = 30
MEASURES = ("visits", "people_seen", "used_material")


@dataclass
class SiteFigures:
    site: object
    visits: object = 0
    people_seen: object = 0
    used_material: object = 0
    last_on: dt.date | None = None


@dataclass
class ArrondissementFigures:
    number: int
    sites: int = 0
    visits: object = 0
    people_seen: object = 0
    used_material: object = 0


def period_ending(today):
    return today - dt.timedelta(days=WINDOW_DAYS - 1), today


def _raw_by_site(period, org_id):
    start, end = period
    query = db.select(SiteObservation.site_id, func.count(), func.sum(SiteObservation.people_seen),
                      func.sum(SiteObservation.syringes_collected
                               + SiteObservation.pipes_collected),
                      func.max(SiteObservation.observed_on)).where(
        SiteObservation.observed_on.between(start, end)).group_by(SiteObservation.site_id)
    if org_id is not None:
        query = query.where(SiteObservation.organisation_id == org_id)
    return {row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0), row[4])
            for row in db.session.execute(query)}


def _record_ids(period, org_id):
    """{site id: ids of its observations in the period}: what a cell's key is made of."""
    query = db.select(SiteObservation.site_id, SiteObservation.id).where(
        SiteObservation.observed_on.between(*period))
    if org_id is not None:
        query = query.where(SiteObservation.organisation_id == org_id)
    ids = {}
    for site_id, observation_id in db.session.execute(query):
        ids.setdefault(site_id, []).append(observation_id)
    return ids


def _cell_key(observation_ids):
    """The same observations give the same key (and the same noise) whatever the period or page
    asked: a published figure cannot be averaged over days to wear its noise down."""
    text = ",".join(sorted(observation_ids)).encode()
    return "site-map|" + hashlib.blake2b(text, digest_size=16).hexdigest()


def _protect(values, observation_ids, rules):
    key = _cell_key(observation_ids)
    return {name: protect_count(value, f"{key}|{name}", rules)
            for name, value in zip(MEASURES, values)}


def site_figures(sites, user, period):
    """One ``SiteFigures`` per site, for ``user`` (own organisation exactly, or every one
    protected)."""
    org_id, rules = organisation_scope(user), rules_for(user)
    raw, ids = _raw_by_site(period, org_id), (_record_ids(period, org_id) if rules else {})
    rows = []
    for site in sites:
        visits, people, material, last_on = raw.get(site.id, (0, 0, 0, None))
        values = _protect((visits, people, material), ids.get(site.id, []), rules)
        rows.append(SiteFigures(site, last_on=last_on if rules is None else None, **values))
    return rows


def arrondissement_figures(sites, user, period):
    """Totals per arrondissement (of the sites' observations), protected as cells of their own."""
    org_id, rules = organisation_scope(user), rules_for(user)
    raw, ids = _raw_by_site(period, org_id), (_record_ids(period, org_id) if rules else {})
    totals, records = {}, {}
    for site in sites:
        records.setdefault(site.arrondissement, []).extend(ids.get(site.id, []))
        row = totals.setdefault(site.arrondissement, [0, 0, 0, 0])
        visits, people, material, _last = raw.get(site.id, (0, 0, 0, None))
        row[0] += 1
        row[1] += visits
        row[2] += people
        row[3] += material
    return [ArrondissementFigures(number, count, **_protect(values, records[number], rules))
            for number, (count, *values) in sorted(totals.items())]
