"""Demo sites and observations (``outreach.seed.seed_demo`` calls ``seed_sites_demo``). Idempotent.

Observations are added to the demo's past shifts (closed or validated, of the last weeks) that have
none, at the sites of their sectors, with counts drawn from a generator seeded by the shift's id:
the same demo every time. On an empty history (the tests' seed) only the types and the named sites
are installed.
"""
import datetime as dt
import random

from .. import contract
from ..extensions import db
from ..models import Shift
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
    since = contract.local_today() - dt.timedelta(weeks=DEMO_WEEKS)
    observed = db.select(SiteObservation.shift_id)
    return db.session.execute(db.select(Shift).where(
        ~Shift.is_open, Shift.shift_on >= since, Shift.id.not_in(observed))).scalars().all()


def _observation(shift, site, rng):
    at = shift.started_at + dt.timedelta(minutes=rng.randint(10, 90))
    return SiteObservation(shift=shift, site=site, organisation_id=shift.organisation_id,
                           team_id=shift.team_id,
                           observed_at=at, observed_on=shift.shift_on,
                           people_seen=rng.randint(3, 40),
                           unapproached_women=rng.randint(0, 3), unapproached_men=rng.randint(0, 8),
                           unapproached_other=rng.randint(0, 1), ambiance=rng.choice(AMBIANCES),
                           police_presence=rng.random() < 0.3, syringes_collected=rng.randint(0, 6),
                           pipes_collected=rng.randint(0, 15),
                           mediations_residents=rng.randint(0, 2),
                           mediations_shopkeepers=rng.randint(0, 1),
                           created_by_id=shift.opened_by_id)


# --- after the demo history (``seed-demo --history``): working together, and the months signed off

def seed_after_history(today=None):
    """Site observations, partners and a handover on the history's shifts, meetings with decisions,
    and sign-offs in every state. Idempotent."""
    from ..signoff.seed import seed_signoff_demo
    seed_sites_demo()
    _partners_on_shifts()
    _demo_meetings(today or contract.local_today())
    _demo_handover()
    return seed_signoff_demo(today)


def _partners_on_shifts():
    from ..site_models import Partner, shift_partners
    partners = db.session.execute(
        db.select(Partner).filter_by(is_active=True).order_by(Partner.id)).scalars().all()
    since = contract.local_today() - dt.timedelta(weeks=DEMO_WEEKS)
    done = db.select(shift_partners.c.shift_id)
    shifts = db.session.execute(
        db.select(Shift.id).where(~Shift.is_open, Shift.shift_on >= since,
                                  Shift.id.not_in(done))).scalars().all()
    rows = []
    for shift_id in shifts:
        rng = random.Random("partners" + shift_id)
        if partners and rng.random() < 0.3:
            rows += [{"shift_id": shift_id, "partner_id": p.id}
                     for p in rng.sample(partners, rng.randint(1, 2))]
    if rows:
        db.session.execute(shift_partners.insert(), rows)


def _demo_meetings(today):
    from ..models import Organisation, PlanAction, User
    from ..site_models import CoordinationDecision, CoordinationMeeting
    if db.session.execute(db.select(CoordinationMeeting.id)).first() is not None:
        return
    manager = db.session.execute(db.select(User).filter_by(role="manager")).scalars().first()
    organisations = db.session.execute(db.select(Organisation).where(
        Organisation.is_partner_institution.is_(False))).scalars().all()
    action = db.session.execute(db.select(PlanAction).order_by(PlanAction.id)).scalars().first()
    if manager is None or not organisations:
        return
    for days, title, decisions in (
            (70, "Comité de suivi Stalingrad", [("Maraude commune le jeudi soir", 20, 15)]),
            (40, "Réunion des maraudes du 19e", [("Point hebdomadaire avec la police", 14, 21),
                                                 ("Signaler les seringues aux abords de l'école",
                                                  10, None)]),
            (5, "Comité de pilotage du plan", [("Ouvrir un espace de repos de nuit", 30, None)])):
        held = today - dt.timedelta(days=days)
        db.session.add(CoordinationMeeting(held_on=held, title=title, created_by_id=manager.id,
                                           organisations=organisations, decisions=[
            CoordinationDecision(text=text, action=action,
                                 follow_up_on=held + dt.timedelta(days=due),
                                 done_on=(held + dt.timedelta(days=done)
                                          if done is not None else None))
            for text, due, done in decisions]))


def _demo_handover():
    from ..models import Organisation, Referral, User
    from ..referrals.handover import hand_over
    from ..site_models import ReferralHandover
    if db.session.execute(db.select(ReferralHandover.id)).first() is not None:
        return
    sender = db.session.execute(
        db.select(User).filter_by(email="supervisor@aurore.demo")).scalar_one_or_none()
    receiver = db.session.execute(
        db.select(Organisation).filter_by(code="gaia")).scalar_one_or_none()
    if sender is None or receiver is None:
        return
    referral = db.session.execute(db.select(Referral).where(
        Referral.organisation_id == sender.organisation_id,
        Referral.status.in_(("proposed", "accepted")))
        .order_by(Referral.proposed_on.desc())).scalars().first()
    if referral is not None:
        hand_over(referral, sender, receiver.id,
                  max(referral.proposed_on, contract.local_today() - dt.timedelta(days=1)))
