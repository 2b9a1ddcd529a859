"""Demo sites and observations (``outreach.seed.seed_demo`` calls ``seed_sites_demo``). Idempotent.

Observations are added to the demo's past shifts (closed or validated, of the last weeks) that have none, at the
sites of their sectors, with counts drawn from a generator seeded by the shift's id: the same demo every time.
On an empty history (the tests' seed) only the types and the named sites are installed.
"""
import datetime as dt
import random

from ..extensions import db
from ..models import Shift, utcnow
from ..site_models import AMBIANCES, Site, SiteObservation
from .coordination import ensure_partner_defaults
from .services import ensure_site_defaults

DEMO_WEEKS = 6


def seed_sites_demo():
    ensure_site_defaults()
    ensure_partner_defaults()
    sites_by_sector = {}
    for site in db.session.execute(db.select(Site)).scalars():
        sites_by_sector.setdefault(site.sector_id, []).append(site)
    for shift in _past_shifts_without_observations():
        rng = random.Random(shift.id)
        candidates = [s for sector in shift.sectors for s in sites_by_sector.get(sector.id, [])
                      if s.is_active_on(shift.shift_on)]
        for site in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
            db.session.add(_observation(shift, site, rng))
    db.session.flush()


def _past_shifts_without_observations():
    since = utcnow().date() - dt.timedelta(weeks=DEMO_WEEKS)
    observed = db.select(SiteObservation.shift_id)
    return db.session.execute(db.select(Shift).where(
        ~Shift.is_open, Shift.shift_on >= since, Shift.id.not_in(observed))).scalars().all()


def _observation(shift, site, rng):
    at = shift.started_at + dt.timedelta(minutes=rng.randint(10, 90))
    return SiteObservation(shift=shift, site=site, organisation_id=shift.organisation_id, team_id=shift.team_id,
                           observed_at=at, observed_on=shift.shift_on, people_seen=rng.randint(3, 40),
                           unapproached_women=rng.randint(0, 3), unapproached_men=rng.randint(0, 8),
                           unapproached_other=rng.randint(0, 1), ambiance=rng.choice(AMBIANCES),
                           police_presence=rng.random() < 0.3, syringes_collected=rng.randint(0, 6),
                           pipes_collected=rng.randint(0, 15), mediations_residents=rng.randint(0, 2),
                           mediations_shopkeepers=rng.randint(0, 1), created_by_id=shift.opened_by_id)
