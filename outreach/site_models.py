"""Sites, what teams observe there, and working together (issue 21). Imported by
``outreach.models``: part of the schema.

A site is a named spot of the street (shared by every organisation, like sectors); an observation is
one visit of a site during a shift: counts only, no person, no free text. Partners present on a
shift come from an editable list; coordination meetings record the organisations present and
decisions (no person either).
"""
from sqlalchemy import CheckConstraint, Index

from .extensions import db
from .models import Labelled, _enum_check, new_uuid, utcnow

AMBIANCES = ("calme", "tendue", "agitee")
OBSERVATION_COUNTS = ("people_seen", "unapproached_women", "unapproached_men", "unapproached_other",
                      "syringes_collected", "pipes_collected", "mediations_residents",
                      "mediations_shopkeepers")


class ListItem(Labelled):
    """Columns of an editable list of this module: a stable code, labels, a position, never
    deleted."""
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    label = db.Column(db.String(120), nullable=False)
    label_en = db.Column(db.String(120))
    position = db.Column(db.Integer, nullable=False, default=0)
    is_active = db.Column(db.Boolean, nullable=False, default=True)


class SiteType(ListItem, db.Model):
    """Editable list of site types (lieu de consommation, deal, campement, abords de
    structure...)."""
    __tablename__ = "site_types"


class Site(db.Model):
    """A named spot in a sector, with an active period and optional WGS 84 coordinates."""
    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint("arrondissement BETWEEN 1 AND 20", name="arrondissement_valid"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("active_until IS NULL OR active_from IS NULL OR active_until >= "
                        "active_from",
                        name="period_ordered"),
    )
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    type_id = db.Column(db.ForeignKey("site_types.id"), nullable=False)
    arrondissement = db.Column(db.Integer, nullable=False)
    sector_id = db.Column(db.ForeignKey("sectors.id"), nullable=False, index=True)
    active_from = db.Column(db.Date)
    active_until = db.Column(db.Date)
    latitude = db.Column(db.Float)
    longitude = db.Column(db.Float)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    type = db.relationship("SiteType")
    sector = db.relationship("Sector")

    def is_active_on(self, day):
        return (self.active_from is None or self.active_from <= day) and \
               (self.active_until is None or day <= self.active_until)


class SiteObservation(db.Model):
    """One visit of a site during a shift: people seen, people not approached, ambiance, police,
    used material picked up, mediations. Idempotent by its client-generated id (offline queue)."""
    __tablename__ = "site_observations"
    __table_args__ = (
        _enum_check("ambiance", AMBIANCES),
        *(CheckConstraint(f"{name} >= 0", name=f"{name}_positive") for name in OBSERVATION_COUNTS),
        Index("ix_site_observations_site_on", "site_id", "observed_on"),
        Index("ix_site_observations_org_on", "organisation_id", "observed_on"),
    )
    id = db.Column(db.String(36), primary_key=True, default=new_uuid)
    shift_id = db.Column(db.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False, index=True)
    site_id = db.Column(db.ForeignKey("sites.id"), nullable=False)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False)
    observed_at = db.Column(db.DateTime, nullable=False)
    observed_on = db.Column(db.Date, nullable=False)
    people_seen = db.Column(db.Integer, nullable=False, default=0)
    unapproached_women = db.Column(db.Integer, nullable=False, default=0)
    unapproached_men = db.Column(db.Integer, nullable=False, default=0)
    unapproached_other = db.Column(db.Integer, nullable=False, default=0)
    ambiance = db.Column(db.String(20))
    police_presence = db.Column(db.Boolean)
    syringes_collected = db.Column(db.Integer, nullable=False, default=0)
    pipes_collected = db.Column(db.Integer, nullable=False, default=0)
    mediations_residents = db.Column(db.Integer, nullable=False, default=0)
    mediations_shopkeepers = db.Column(db.Integer, nullable=False, default=0)
    created_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    shift = db.relationship("Shift")
    site = db.relationship("Site")
    team = db.relationship("Team")

    @property
    def unapproached(self):
        return self.unapproached_women + self.unapproached_men + self.unapproached_other

    @property
    def used_material(self):
        return self.syringes_collected + self.pipes_collected


# --- working together: partners on a shift, coordination meetings and their decisions -------------

class Partner(ListItem, db.Model):
    """Editable list of partners a team may work beside (other associations, health or police
    services)."""
    __tablename__ = "partners"


shift_partners = db.Table(
    "shift_partners",
    db.Column("shift_id", db.ForeignKey("shifts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("partner_id", db.ForeignKey("partners.id"), primary_key=True),
)

meeting_organisations = db.Table(
    "meeting_organisations",
    db.Column("meeting_id", db.ForeignKey("coordination_meetings.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("organisation_id", db.ForeignKey("organisations.id"), primary_key=True),
)


class CoordinationMeeting(db.Model):
    """A meeting of the plan's actors: its date, the organisations present and its decisions."""
    __tablename__ = "coordination_meetings"
    id = db.Column(db.Integer, primary_key=True)
    held_on = db.Column(db.Date, nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    created_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    organisations = db.relationship("Organisation", secondary=meeting_organisations,
                                    order_by="Organisation.name")
    decisions = db.relationship("CoordinationDecision", cascade="all, delete-orphan",
                                back_populates="meeting", order_by="CoordinationDecision.id")


class CoordinationDecision(db.Model):
    """A decision, optionally linked to a plan action, followed up by a date (late while not done
    after it)."""
    __tablename__ = "coordination_decisions"
    __table_args__ = (Index("ix_coordination_decisions_follow_up", "done_on", "follow_up_on"),)
    id = db.Column(db.Integer, primary_key=True)
    meeting_id = db.Column(db.ForeignKey("coordination_meetings.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    text = db.Column(db.String(500), nullable=False)
    action_id = db.Column(db.ForeignKey("plan_actions.id", ondelete="SET NULL"))
    follow_up_on = db.Column(db.Date)
    done_on = db.Column(db.Date)
    meeting = db.relationship("CoordinationMeeting", back_populates="decisions")
    action = db.relationship("PlanAction")

    def is_late(self, today):
        return self.done_on is None and self.follow_up_on is not None and self.follow_up_on < today


# --- a referral handed over to another organisation -----------------------------------------------

class ReferralHandover(db.Model):
    """A referral handed over to another organisation: the receiving one reads the referral, its
    person's code and "last seen" line, never a contact of the sending one
    (``outreach.referrals.handover``)."""
    __tablename__ = "referral_handovers"
    __table_args__ = (
        CheckConstraint("from_organisation_id <> to_organisation_id", name="organisations_differ"),
        Index("ix_referral_handovers_to_on", "to_organisation_id", "handed_over_on"),
        Index("ix_referral_handovers_from_on", "from_organisation_id", "handed_over_on"),
    )
    id = db.Column(db.Integer, primary_key=True)
    referral_id = db.Column(db.ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False,
                            unique=True)
    from_organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    to_organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    handed_over_on = db.Column(db.Date, nullable=False)
    handed_over_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    referral = db.relationship("Referral")
    from_organisation = db.relationship("Organisation", foreign_keys=[from_organisation_id])
    to_organisation = db.relationship("Organisation", foreign_keys=[to_organisation_id])


# --- a month signed off by an organisation, accepted or returned by the plan ----------------------

SIGNOFF_STATES = ("provisional", "signed_off", "accepted", "returned")


class MonthSignoff(db.Model):
    """One organisation's month: provisional (or reopened) -> signed off by its admin -> accepted by
    a plan manager, or returned with a comment. No row means provisional (``outreach.signoff``)."""
    __tablename__ = "month_signoffs"
    __table_args__ = (
        _enum_check("status", SIGNOFF_STATES),
        db.UniqueConstraint("organisation_id", "month", name="organisation_month"),
        CheckConstraint("status <> 'returned' OR comment IS NOT NULL", name="returned_has_comment"),
    )
    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    month = db.Column(db.Date, nullable=False, index=True)  # its first day
    status = db.Column(db.String(12), nullable=False, default="provisional")
    signed_off_at = db.Column(db.DateTime)
    signed_off_by_id = db.Column(db.ForeignKey("users.id"))
    decided_at = db.Column(db.DateTime)
    decided_by_id = db.Column(db.ForeignKey("users.id"))
    comment = db.Column(db.String(500))  # what the plan manager asks to fix (returned)
    reopen_reason = db.Column(db.String(500))
    reopened_at = db.Column(db.DateTime)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    organisation = db.relationship("Organisation")
    signed_off_by = db.relationship("User", foreign_keys=[signed_off_by_id])
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])
