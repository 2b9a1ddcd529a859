"""Plan execution: places, action progress, budgets, population estimates (imported by
``models.py``).

None of these tables holds person data. Every register is append-only history where a date matters
(capacity, action statuses, estimates): the value on a day is the latest row dated on or before it.
Amounts are whole cents (integers: exact on every database)."""
from sqlalchemy import CheckConstraint, Index, UniqueConstraint

from .extensions import db
from .models import Labelled, _enum_check, utcnow

ACTION_STATUSES = ("not_started", "started", "partly_done", "done", "abandoned")


class PlaceCapacity(db.Model):
    """Places available in a programme run by an operator organisation, from ``starts_on`` until the
    next row."""
    __tablename__ = "place_capacities"
    __table_args__ = (CheckConstraint("places >= 0", name="places_not_negative"),
                      Index("ix_place_capacities_programme", "programme_id", "organisation_id",
                            "starts_on"))
    id = db.Column(db.Integer, primary_key=True)
    programme_id = db.Column(db.ForeignKey("ref_items.id"), nullable=False)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    starts_on = db.Column(db.Date, nullable=False)
    places = db.Column(db.Integer, nullable=False)
    note = db.Column(db.String(300), nullable=False, default="")
    recorded_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    programme = db.relationship("RefItem")
    organisation = db.relationship("Organisation")
    recorded_by = db.relationship("User")


class ActionStatusChange(db.Model):
    """An action's status from ``effective_on``, who recorded it, why, and the evidence: the one
    home of an action's status (the current one is the latest row dated on or before today)."""
    __tablename__ = "action_status_changes"
    __table_args__ = (_enum_check("status", ACTION_STATUSES),
                      Index("ix_action_status_changes_action", "action_id", "effective_on"))
    id = db.Column(db.Integer, primary_key=True)
    action_id = db.Column(db.ForeignKey("plan_actions.id", ondelete="CASCADE"), nullable=False)
    status = db.Column(db.String(20), nullable=False)
    effective_on = db.Column(db.Date, nullable=False)
    reason = db.Column(db.String(500), nullable=False)
    evidence = db.Column(db.String(500), nullable=False, default="")
    # None: from a catalogue import or the 0013 migration
    recorded_by_id = db.Column(db.ForeignKey("users.id"))
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    action = db.relationship("PlanAction")
    recorded_by = db.relationship("User")


class ActionMilestone(db.Model):
    """A milestone of an action: late on a day after ``due_on`` while not done by that day."""
    __tablename__ = "action_milestones"
    __table_args__ = (
        CheckConstraint("done_on IS NULL OR done_on >= created_on", name="done_after_created"),)
    id = db.Column(db.Integer, primary_key=True)
    action_id = db.Column(db.ForeignKey("plan_actions.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    title = db.Column(db.String(200), nullable=False)
    created_on = db.Column(db.Date, nullable=False)
    due_on = db.Column(db.Date, nullable=False)
    done_on = db.Column(db.Date)
    action = db.relationship("PlanAction")


class Funder(Labelled, db.Model):
    __tablename__ = "funders"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    label = db.Column(db.String(120), nullable=False)
    label_en = db.Column(db.String(120))
    position = db.Column(db.Integer, nullable=False, default=0)


class BudgetLine(db.Model):
    """Per action, funder and year: planned (initial commitment), committed and spent, in cents."""
    __tablename__ = "budget_lines"
    __table_args__ = (UniqueConstraint("action_id", "funder_id", "year"),
                      CheckConstraint("planned_cents >= 0 AND committed_cents >= 0 AND spent_cents "
                                      ">= 0",
                                      name="amounts_not_negative"))
    id = db.Column(db.Integer, primary_key=True)
    action_id = db.Column(db.ForeignKey("plan_actions.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    funder_id = db.Column(db.ForeignKey("funders.id"), nullable=False)
    year = db.Column(db.Integer, nullable=False)
    planned_cents = db.Column(db.BigInteger, nullable=False, default=0)
    committed_cents = db.Column(db.BigInteger, nullable=False, default=0)
    spent_cents = db.Column(db.BigInteger, nullable=False, default=0)
    action = db.relationship("PlanAction")
    funder = db.relationship("Funder")


class PopulationEstimate(db.Model):
    """A dated, sourced estimate of the street population in scope: a value (low = high) or a
    range."""
    __tablename__ = "population_estimates"
    __table_args__ = (CheckConstraint("low > 0 AND high >= low", name="range_valid"),)
    id = db.Column(db.Integer, primary_key=True)
    estimated_on = db.Column(db.Date, nullable=False, index=True)
    area = db.Column(db.String(120), nullable=False)
    low = db.Column(db.Integer, nullable=False)
    high = db.Column(db.Integer, nullable=False)
    source = db.Column(db.String(300), nullable=False)
    recorded_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    recorded_by = db.relationship("User")


EXITED_INDEX = ("exited", "programme_id", "exit_reason_id", "admitted", "person_id", "exited_on",
                "key_hi", "key_lo", "referral_id")
REFUSED_INDEX = ("refused", "refusal_reason_id", "programme_id", "key_hi", "key_lo")
ADMITTED_INDEX = ("programme_id", "admitted", "stop", "exited", "key_hi", "key_lo")
STOP_INDEX = ("programme_id", "stop", "admitted", "key_hi", "key_lo")


class PlanStay(db.Model):
    """The report card's facts of one referral with an admission, an exit or a refusal, derived from
    ``referrals`` by the roll-up catch-up (``planexec.rollup``), never written by hand. Days are
    day numbers (days since 1970-01-01); ``stop`` is the day a stay's nights end (its exit, never
    before its admission; None: open); the months are those of the admission, ``stop``, the last
    night, the exit and the refusal. ``key_hi`` and ``key_lo`` are the two 32-bit halves of the
    referral's cell key (``protection.record_key``), so a SUM in SQL stays exact on every
    database. No foreign key: a deleted referral's row is what the catch-up reads back to know
    which months to rebuild."""
    __tablename__ = "plan_stays"
    # covering indexes: each of the card's reads walks one of them, never the table
    __table_args__ = (Index("ix_plan_stays_exited", *EXITED_INDEX),
                      Index("ix_plan_stays_refused", *REFUSED_INDEX),
                      Index("ix_plan_stays_admitted", *ADMITTED_INDEX),
                      Index("ix_plan_stays_stop", *STOP_INDEX))
    referral_id = db.Column(db.String(36), primary_key=True)
    organisation_id = db.Column(db.Integer, nullable=False)
    programme_id = db.Column(db.Integer, nullable=False)
    person_id = db.Column(db.Integer)
    admitted = db.Column(db.Integer)
    stop = db.Column(db.Integer)
    exited = db.Column(db.Integer)
    exited_on = db.Column(db.Date)
    exit_reason_id = db.Column(db.Integer)
    refused = db.Column(db.Integer)
    refusal_reason_id = db.Column(db.Integer)
    admitted_month = db.Column(db.Date)
    stop_month = db.Column(db.Date)
    last_night_month = db.Column(db.Date)
    exited_month = db.Column(db.Date)
    refused_month = db.Column(db.Date)
    key_hi = db.Column(db.BigInteger, nullable=False)
    key_lo = db.Column(db.BigInteger, nullable=False)


class PlanStayMonth(db.Model):
    """Per programme and month, the stays with a night (``plan_stays``) summed by event: ``a``
    admissions, ``s`` ends of nights (``stop``), ``l`` last nights; ``days`` is the sum of the
    event's day numbers (nights of a month follow from the counts and these sums),
    ``key_hi``/``key_lo`` the sums of the stays' key halves."""
    __tablename__ = "plan_stay_months"
    programme_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    month = db.Column(db.Date, primary_key=True)
    part = db.Column(db.String(1), primary_key=True)
    n = db.Column(db.BigInteger, nullable=False)
    days = db.Column(db.BigInteger, nullable=False)
    key_hi = db.Column(db.BigInteger, nullable=False)
    key_lo = db.Column(db.BigInteger, nullable=False)
