"""The whole schema, in one file a data-protection reviewer can read in one sitting.

No table holds a name, a birth date or any raw input of the pseudonym code:
persons are only ``Person.code`` (an HMAC) plus first/last-seen dates.
Free text is deliberately absent from person-level tables.
"""
import uuid
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, UniqueConstraint, event, inspect, update
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Session

from . import contract
from .extensions import db

ROLES = ("worker", "supervisor", "manager", "admin")
# the contact contract's
SEXES, AGE_BANDS, CONTACT_KINDS = contract.SEXES, contract.AGE_BANDS, contract.KINDS
SHIFT_STATES = ("open", "closed", "validated")
REFERRAL_STATES = ("proposed", "accepted", "refused", "admitted", "exited")
REF_KINDS = ("living_situation", "product", "need", "material", "destination",
             "programme", "refusal_reason", "exit_reason")


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


def new_uuid():
    return str(uuid.uuid4())


def _enum_check(column, values):
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_valid")


def _english():
    from flask import has_request_context
    from flask_babel import get_locale
    return has_request_context() and str(get_locale() or "fr") == "en"


class Labelled:
    """Lists with a French label and an optional English one: ``display_label`` is the one to
    show."""

    @property
    def display_label(self):
        return (self.label_en or self.label) if _english() else self.label

    @classmethod
    def display_label_column(cls):
        """The label to show, as SQL (for queries that group or sort by label)."""
        return db.func.coalesce(cls.label_en, cls.label) if _english() else cls.label


# --- organisations, teams, users -------------------------------------------------

team_sectors = db.Table(
    "team_sectors",
    db.Column("team_id", db.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    db.Column("sector_id", db.ForeignKey("sectors.id", ondelete="CASCADE"), primary_key=True),
)

user_teams = db.Table(
    "user_teams",
    db.Column("user_id", db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    db.Column("team_id", db.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(db.Model):
    __tablename__ = "organisations"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    is_partner_institution = db.Column(db.Boolean, nullable=False, default=False)
    teams = db.relationship("Team", back_populates="organisation", order_by="Team.name")


class Sector(Labelled, db.Model):
    __tablename__ = "sectors"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    label = db.Column(db.String(120), nullable=False)
    label_en = db.Column(db.String(120))
    district = db.Column(db.String(10))
    position = db.Column(db.Integer, nullable=False, default=0)
    is_active = db.Column(db.Boolean, nullable=False, default=True)


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False, index=True)
    code = db.Column(db.String(40), nullable=False)
    name = db.Column(db.String(120), nullable=False)
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    organisation = db.relationship("Organisation", back_populates="teams")
    sectors = db.relationship("Sector", secondary=team_sectors, order_by="Sector.position")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", ROLES),)
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), index=True)
    is_enabled = db.Column(db.Boolean, nullable=False, default=True)
    must_change_password = db.Column(db.Boolean, nullable=False, default=False)
    totp_secret = db.Column(db.String(64))
    totp_last_step = db.Column(db.Integer)  # time step of the last code accepted: a code works once
    session_version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_login_at = db.Column(db.DateTime)
    organisation = db.relationship("Organisation")
    teams = db.relationship("Team", secondary=user_teams, order_by="Team.name")

    @property
    def is_active(self):
        return self.is_enabled

    def get_id(self):
        # A password, role or state change bumps session_version (security.end_sessions), ending old
        # sessions.
        return f"{self.id}:{self.session_version}"

    @property
    def team_ids(self):
        return [t.id for t in self.teams]


class UserSession(db.Model):
    """One signed-in browser. The cookie holds a random value; only its SHA-256 is stored here, and
    the user loader admits a cookie only while its row exists and is within the idle and absolute
    lifetimes."""
    __tablename__ = "user_sessions"
    id = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class ApiToken(db.Model):
    """A bearer token for /api/ only; only its SHA-256 is stored."""
    __tablename__ = "api_tokens"
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    label = db.Column(db.String(80), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    last_used_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)
    user = db.relationship("User")

    @property
    def is_live(self):
        return self.revoked_at is None and self.expires_at > utcnow()


class LoginThrottle(db.Model):
    """Consecutive failed logins for one account or one address (``key`` is a SHA-256 of
    "account:EMAIL" or "address:IP", so no typed address is kept), and until when the next attempt
    must wait."""
    __tablename__ = "login_throttles"
    key = db.Column(db.String(64), primary_key=True)
    failures = db.Column(db.Integer, nullable=False, default=0)
    last_failed_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    blocked_until = db.Column(db.DateTime)


# --- reference data (editable lists with stable codes) --------------------------

class RefItem(Labelled, db.Model):
    """One entry of an editable list: material, destination, programme, reasons..."""
    __tablename__ = "ref_items"
    __table_args__ = (UniqueConstraint("kind", "code"), _enum_check("kind", REF_KINDS))
    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(30), nullable=False)
    code = db.Column(db.String(40), nullable=False)
    label = db.Column(db.String(120), nullable=False)
    label_en = db.Column(db.String(120))
    unit = db.Column(db.String(30))
    position = db.Column(db.Integer, nullable=False, default=0)
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    is_frequent = db.Column(db.Boolean, nullable=False, default=False)


class ReferenceVersion(db.Model):
    """One row whose ``version`` changes with every edit of a reference list or sector (a random
    token, so a rolled-back edit never reuses one): what each process compares to its in-memory
    lists (reference/cache.py)."""
    __tablename__ = "reference_versions"
    id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    version = db.Column(db.String(32), nullable=False)


# --- shifts (maraudes) ------------------------------------------------------------

shift_sectors = db.Table(
    "shift_sectors",
    db.Column("shift_id", db.ForeignKey("shifts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("sector_id", db.ForeignKey("sectors.id"), primary_key=True),
)

shift_staff = db.Table(
    "shift_staff",
    db.Column("shift_id", db.ForeignKey("shifts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", db.ForeignKey("users.id"), primary_key=True),
)


class Shift(db.Model):
    __tablename__ = "shifts"
    __table_args__ = (
        _enum_check("status", SHIFT_STATES),
        Index("ix_shifts_org_on", "organisation_id", "shift_on"),
        # reads by day over every organisation (sign-off states, shifts with partners) and the
        # admissions' join to their shift's state, from the index alone (migration 0016)
        Index("ix_shifts_on_status", "shift_on", "status", "organisation_id", "id"),
        Index("ix_shifts_id_status", "id", "status"),
    )
    id = db.Column(db.String(36), primary_key=True, default=new_uuid)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False, index=True)
    opened_by_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    started_at = db.Column(db.DateTime, nullable=False)
    ended_at = db.Column(db.DateTime)
    shift_on = db.Column(db.Date, nullable=False)
    status = db.Column(db.String(12), nullable=False, default="open")
    staff_count = db.Column(db.Integer, nullable=False, default=1)
    ambiance = db.Column(db.String(20))
    police_presence = db.Column(db.Boolean)
    unapproached_women = db.Column(db.Integer, nullable=False, default=0)
    unapproached_men = db.Column(db.Integer, nullable=False, default=0)
    unapproached_other = db.Column(db.Integer, nullable=False, default=0)
    used_material_collected = db.Column(db.Integer, nullable=False, default=0)
    closed_at = db.Column(db.DateTime)
    validated_at = db.Column(db.DateTime)
    validated_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    version = db.Column(db.Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read once by the mapper)

    organisation = db.relationship("Organisation")
    team = db.relationship("Team")
    opened_by = db.relationship("User", foreign_keys=[opened_by_id])
    validated_by = db.relationship("User", foreign_keys=[validated_by_id])
    sectors = db.relationship("Sector", secondary=shift_sectors, order_by="Sector.position")
    staff = db.relationship("User", secondary=shift_staff, order_by="User.email")
    stock = db.relationship("ShiftStock", cascade="all, delete-orphan", back_populates="shift")
    contacts = db.relationship("Contact", back_populates="shift", order_by="Contact.occurred_at",
                               cascade="all, delete-orphan")

    # The shift's state, in Python (``shift.is_open``) and in SQL (``where(Shift.is_open)``): the
    # one place where the state codes are compared.
    @hybrid_property
    def is_open(self):
        return self.status == "open"

    @hybrid_property
    def is_closed(self):
        """Closed by its team, not yet validated: what a supervisor validates."""
        return self.status == "closed"

    @hybrid_property
    def is_locked(self):
        """Validated by a supervisor: only a supervisor's audited correction changes it."""
        return self.status == "validated"


class ShiftStock(db.Model):
    """Harm-reduction material taken out at the start and brought back at the end."""
    __tablename__ = "shift_stock"
    shift_id = db.Column(db.ForeignKey("shifts.id", ondelete="CASCADE"), primary_key=True)
    material_id = db.Column(db.ForeignKey("ref_items.id"), primary_key=True)
    taken_out = db.Column(db.Integer, nullable=False, default=0)
    brought_back = db.Column(db.Integer, nullable=False, default=0)
    shift = db.relationship("Shift", back_populates="stock")
    material = db.relationship("RefItem")


# --- persons and contacts ---------------------------------------------------------

class Person(db.Model):
    """A pseudonym code and nothing else; shared by every organisation of the plan."""
    __tablename__ = "persons"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(64), nullable=False, unique=True)
    is_weak = db.Column(db.Boolean, nullable=False, default=False)
    first_seen_on = db.Column(db.Date)
    last_seen_on = db.Column(db.Date, index=True)
    last_seen_team_id = db.Column(db.ForeignKey("teams.id"))
    last_seen_team = db.relationship("Team")


contact_products = db.Table(
    "contact_products",
    db.Column("contact_id", db.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("product_id", db.ForeignKey("ref_items.id"), primary_key=True),
)

contact_needs = db.Table(
    "contact_needs",
    db.Column("contact_id", db.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    db.Column("need_id", db.ForeignKey("ref_items.id"), primary_key=True),
)


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        _enum_check("kind", CONTACT_KINDS),
        # migration 0002
        *(CheckConstraint(text, name=name) for name, text in contract.CHECKS.items()),
        Index("ix_contacts_org_on", "organisation_id", "occurred_on"),
        Index("ix_contacts_person_on", "person_id", "occurred_on"),
        # a roll-up catch-up reads one marked team-month, not its organisation's month (0017)
        Index("ix_contacts_team_on", "team_id", "occurred_on"),
    )
    id = db.Column(db.String(36), primary_key=True, default=new_uuid)
    shift_id = db.Column(db.ForeignKey("shifts.id", ondelete="CASCADE"), nullable=False, index=True)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    team_id = db.Column(db.ForeignKey("teams.id"), nullable=False)
    sector_id = db.Column(db.ForeignKey("sectors.id"))
    occurred_at = db.Column(db.DateTime, nullable=False)
    occurred_on = db.Column(db.Date, nullable=False)
    kind = db.Column(db.String(12), nullable=False)
    person_id = db.Column(db.ForeignKey("persons.id"))
    is_first_contact = db.Column(db.Boolean, nullable=False, default=False)
    people_count = db.Column(db.Integer, nullable=False, default=1)
    sex = db.Column(db.String(1))
    age_band = db.Column(db.String(10))
    living_situation_id = db.Column(db.ForeignKey("ref_items.id"))
    created_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    # reached the server after its shift was closed (a phone's queue): kept, audited, shown for
    # review
    is_late = db.Column(db.Boolean, nullable=False, server_default=db.false())

    shift = db.relationship("Shift", back_populates="contacts")
    team = db.relationship("Team")
    sector = db.relationship("Sector")
    person = db.relationship("Person")
    living_situation = db.relationship("RefItem")
    created_by = db.relationship("User")
    products = db.relationship("RefItem", secondary=contact_products, order_by="RefItem.position")
    needs = db.relationship("RefItem", secondary=contact_needs, order_by="RefItem.position")
    materials = db.relationship("ContactMaterial", cascade="all, delete-orphan",
                                back_populates="contact")
    orientations = db.relationship("Orientation", cascade="all, delete-orphan",
                                   back_populates="contact")
    referrals = db.relationship("Referral", cascade="all, delete-orphan", back_populates="contact")


class ContactMaterial(db.Model):
    __tablename__ = "contact_materials"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    contact_id = db.Column(db.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    material_id = db.Column(db.ForeignKey("ref_items.id"), primary_key=True)
    quantity = db.Column(db.Integer, nullable=False)
    contact = db.relationship("Contact", back_populates="materials")
    material = db.relationship("RefItem")


class Orientation(db.Model):
    """A care orientation: destination, accompanied physically or not."""
    __tablename__ = "orientations"
    id = db.Column(db.Integer, primary_key=True)
    contact_id = db.Column(db.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    destination_id = db.Column(db.ForeignKey("ref_items.id"), nullable=False)
    is_accompanied = db.Column(db.Boolean, nullable=False, default=False)
    contact = db.relationship("Contact", back_populates="orientations")
    destination = db.relationship("RefItem")


class Referral(db.Model):
    """A shelter referral and its dated lifecycle: proposed -> accepted|refused -> admitted ->
    exited."""
    __tablename__ = "referrals"
    __table_args__ = (
        _enum_check("status", REFERRAL_STATES),
        Index("ix_referrals_org_status", "organisation_id", "status"),
        # covers the dashboard's medians: admissions of a period without reading the table
        Index("ix_referrals_admitted", "admitted_on", "programme_id", "organisation_id",
              "proposed_on", "person_first_seen_on"),
    )
    id = db.Column(db.String(36), primary_key=True, default=new_uuid)
    contact_id = db.Column(db.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False,
                           index=True)
    organisation_id = db.Column(db.ForeignKey("organisations.id"), nullable=False)
    person_id = db.Column(db.ForeignKey("persons.id"), index=True)
    # the person's first_seen_on, copied and kept in step by every writer (pseudonyms.touch_person,
    # imports, synthetic history): the medians "first contact -> admission" then read no person row
    person_first_seen_on = db.Column(db.Date)
    programme_id = db.Column(db.ForeignKey("ref_items.id"), nullable=False)
    status = db.Column(db.String(12), nullable=False, default="proposed")
    proposed_on = db.Column(db.Date, nullable=False)
    accepted_on = db.Column(db.Date)
    refused_on = db.Column(db.Date)
    refusal_reason_id = db.Column(db.ForeignKey("ref_items.id"))
    admitted_on = db.Column(db.Date)
    exited_on = db.Column(db.Date)
    exit_reason_id = db.Column(db.ForeignKey("ref_items.id"))
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    contact = db.relationship("Contact", back_populates="referrals")
    person = db.relationship("Person")
    programme = db.relationship("RefItem", foreign_keys=[programme_id])
    refusal_reason = db.relationship("RefItem", foreign_keys=[refusal_reason_id])
    exit_reason = db.relationship("RefItem", foreign_keys=[exit_reason_id])
    events = db.relationship("ReferralEvent", cascade="all, delete-orphan",
                             back_populates="referral", order_by="ReferralEvent.id")


class ReferralEvent(db.Model):
    """Each step of a referral: what, on which date, recorded by whom."""
    __tablename__ = "referral_events"
    __table_args__ = (_enum_check("status", REFERRAL_STATES),)
    id = db.Column(db.Integer, primary_key=True)
    referral_id = db.Column(db.ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False,
                            index=True)
    status = db.Column(db.String(12), nullable=False)
    occurred_on = db.Column(db.Date, nullable=False)
    reason_id = db.Column(db.ForeignKey("ref_items.id"))
    recorded_by_id = db.Column(db.ForeignKey("users.id"), nullable=False)
    recorded_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    referral = db.relationship("Referral", back_populates="events")
    reason = db.relationship("RefItem")
    recorded_by = db.relationship("User")


# --- audit trail (append-only) ----------------------------------------------------

class AuditEvent(db.Model):
    """Logins, corrections, validations, exports, role changes, purges, key rotations.

    The application only ever inserts here (see ``outreach.audit``)."""
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)
    id = db.Column(db.Integer, primary_key=True)
    occurred_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    actor_id = db.Column(db.ForeignKey("users.id"))
    organisation_id = db.Column(db.ForeignKey("organisations.id"), index=True)
    action = db.Column(db.String(40), nullable=False, index=True)
    target_type = db.Column(db.String(40))
    target_id = db.Column(db.String(64))
    field = db.Column(db.String(60))
    before = db.Column(db.Text)
    after = db.Column(db.Text)
    reason = db.Column(db.String(500))
    details = db.Column(db.JSON)
    actor = db.relationship("User")


# --- plan catalogue and indicators ------------------------------------------------

class Plan(db.Model):
    __tablename__ = "plans"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(40), nullable=False, unique=True)
    title = db.Column(db.String(200), nullable=False)
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date)
    is_illustrative = db.Column(db.Boolean, nullable=False, default=True)
    axes = db.relationship("PlanAxis", cascade="all, delete-orphan", order_by="PlanAxis.position")


class PlanAxis(db.Model):
    __tablename__ = "plan_axes"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)
    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.String(10), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    actions = db.relationship("PlanAction", cascade="all, delete-orphan",
                              order_by="PlanAction.position")


class PlanAction(db.Model):
    __tablename__ = "plan_actions"
    __table_args__ = (UniqueConstraint("axis_id", "number"),)
    id = db.Column(db.Integer, primary_key=True)
    axis_id = db.Column(db.ForeignKey("plan_axes.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.String(10), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    lead_partner = db.Column(db.String(120))
    operators = db.Column(db.String(300))
    # status: its dated history (ActionStatusChange)
    position = db.Column(db.Integer, nullable=False, default=0)
    axis = db.relationship("PlanAxis", back_populates="actions")
    indicators = db.relationship("Indicator", cascade="all, delete-orphan",
                                 order_by="Indicator.position")
    status_changes = db.relationship("ActionStatusChange", viewonly=True,
                                     order_by="(ActionStatusChange.effective_on, "
                                              "ActionStatusChange.id)")

    @property
    def current_status(self):
        """The latest dated status on or before today (``planexec``); none yet: not started."""
        from .referrals.services import today
        day = today()
        return next((c.status for c in reversed(self.status_changes) if c.effective_on <= day),
                    "not_started")


class Indicator(db.Model):
    """numerator measure (with filters) / denominator measure x factor, as DHIS2 defines it."""
    __tablename__ = "indicators"
    id = db.Column(db.Integer, primary_key=True)
    action_id = db.Column(db.ForeignKey("plan_actions.id", ondelete="CASCADE"), nullable=False,
                          index=True)
    code = db.Column(db.String(60), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    definition = db.Column(db.Text, nullable=False, default="")
    unit = db.Column(db.String(30), nullable=False, default="")
    numerator = db.Column(db.String(60), nullable=False)
    numerator_filters = db.Column(db.JSON, nullable=False, default=dict)
    denominator = db.Column(db.String(60))
    denominator_filters = db.Column(db.JSON, nullable=False, default=dict)
    factor = db.Column(db.Integer, nullable=False, default=1)
    baseline = db.Column(db.Float)
    direction = db.Column(db.String(6), nullable=False, default="higher")
    position = db.Column(db.Integer, nullable=False, default=0)
    action = db.relationship("PlanAction", back_populates="indicators")
    targets = db.relationship("IndicatorTarget", cascade="all, delete-orphan",
                              order_by="IndicatorTarget.starts_on")


class IndicatorTarget(db.Model):
    __tablename__ = "indicator_targets"
    __table_args__ = (UniqueConstraint("indicator_id", "starts_on", "ends_on"),)
    id = db.Column(db.Integer, primary_key=True)
    indicator_id = db.Column(db.ForeignKey("indicators.id", ondelete="CASCADE"), nullable=False)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date, nullable=False)
    value = db.Column(db.Float, nullable=False)


# --- indicators roll-ups (derived; marked dirty on write, caught up before reads by
# outreach.indicators.rollups) ---

class RollupDirty(db.Model):
    """An (organisation, team, month) slice written since the last catch-up (``team_id`` None: every
    team).

    Inserted by the write listener in the writer's transaction, so the mark commits with the data;
    ``outreach.indicators.rollups.catch_up`` rebuilds the slices and deletes the rows it read."""
    __tablename__ = "rollup_dirty"
    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, nullable=False)
    team_id = db.Column(db.Integer)
    month = db.Column(db.Date, nullable=False)
    # when the write was made (UTC): pages that read before a backlog is caught up say "figures as
    # of" the oldest pending mark's time. NULL: a mark made before migration 0017.
    marked_at = db.Column(db.DateTime, default=utcnow)


class RollupMonthly(db.Model):
    """Monthly sums per organisation, team, sector (0: all), measure and item (0: none).

    Contact measures keep the sector; item measures (material, destination, programme)
    and shift measures use sector 0. ``is_validated``: from a validated shift."""
    __tablename__ = "rollup_monthly"
    __table_args__ = (Index("ix_rollup_monthly_month", "month", "measure"),)
    month = db.Column(db.Date, primary_key=True)
    organisation_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    team_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    sector_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    measure = db.Column(db.String(30), primary_key=True)
    item_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    is_validated = db.Column(db.Boolean, primary_key=True)
    value = db.Column(db.Integer, nullable=False)


class RollupOrgMonthly(db.Model):
    """``rollup_monthly`` summed over teams and sectors: the dashboard's read without team or sector
    filter."""
    __tablename__ = "rollup_org_monthly"
    # the dashboard's reads (a window of validated or provisional months) from the index alone
    __table_args__ = (Index("ix_rollup_org_monthly_read", "is_validated", "month", "measure",
                            "item_id", "organisation_id", "value"),)
    month = db.Column(db.Date, primary_key=True)
    organisation_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    measure = db.Column(db.String(30), primary_key=True)
    item_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    is_validated = db.Column(db.Boolean, primary_key=True)
    value = db.Column(db.Integer, nullable=False)


class RollupPersonSpan(db.Model):
    """One row per person and month seen within a scope (0: the whole plan, else an organisation
    id), with the previous month seen in that scope. Distinct persons over months [a, b] are the
    rows with a <= month <= b and no previous month >= a: a plain COUNT, exact.
    ``mode`` 0 counts validated shifts only, 1 includes provisional data."""
    __tablename__ = "rollup_person_spans"
    __table_args__ = (
        Index("ix_rollup_person_spans_scan", "scope_id", "mode", "month", "prev_month",
              "first_contacts", "next_month", "multi_from"),
        Index("ix_rollup_person_spans_person", "person_id"))
    scope_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    mode = db.Column(db.Integer, primary_key=True, autoincrement=False)
    person_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    month = db.Column(db.Date, primary_key=True)
    prev_month = db.Column(db.Date)
    first_contacts = db.Column(db.Integer, nullable=False)
    # Plan scope only: next month seen, and the latest month from which the person is known to have
    # been met by two organisations (running): met by 2+ organisations within [a, b] <=> on the
    # person's last row up to b, multi_from >= a.
    next_month = db.Column(db.Date)
    multi_from = db.Column(db.Date)


class RollupSpanCount(db.Model):
    """``rollup_person_spans`` counted by (scope, mode, month, previous month seen): distinct
    persons over months [a, b] are the sum of ``persons`` for a <= month <= b and prev_month < a,
    new persons the sum of ``first_contacts``; a few hundred rows a year instead of a person each.
    No previous month: ``NO_MONTH`` (before every month)."""
    __tablename__ = "rollup_span_counts"
    scope_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    mode = db.Column(db.Integer, primary_key=True, autoincrement=False)
    month = db.Column(db.Date, primary_key=True)
    prev_month = db.Column(db.Date, primary_key=True)
    persons = db.Column(db.Integer, nullable=False)
    first_contacts = db.Column(db.Integer, nullable=False)


class RollupMultiCount(db.Model):
    """Plan-scope spans with a ``multi_from``, counted by (mode, month, next month seen,
    multi_from): persons met by 2+ organisations within [a, b] are the sum for a <= month <= b,
    next_month > b and multi_from >= a. No next month: ``LAST_MONTH`` (after every month)."""
    __tablename__ = "rollup_multi_counts"
    mode = db.Column(db.Integer, primary_key=True, autoincrement=False)
    month = db.Column(db.Date, primary_key=True)
    next_month = db.Column(db.Date, primary_key=True)
    multi_from = db.Column(db.Date, primary_key=True)
    persons = db.Column(db.Integer, nullable=False)


class RollupPersonMonth(db.Model):
    """Exact person-by-month-by-team rows: distinct persons over any period are a COUNT(DISTINCT)
    here."""
    __tablename__ = "rollup_person_months"
    __table_args__ = (
        Index("ix_rollup_person_months_month", "month", "person_id", "organisation_id",
              "team_id", "is_validated", "first_contacts"),)
    person_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    month = db.Column(db.Date, primary_key=True)
    organisation_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    team_id = db.Column(db.Integer, primary_key=True, autoincrement=False)
    is_validated = db.Column(db.Boolean, primary_key=True)
    contacts = db.Column(db.Integer, nullable=False)
    first_contacts = db.Column(db.Integer, nullable=False)


# --- copies kept in step ------------------------------------------------------------

@event.listens_for(Session, "before_flush")
def _referrals_first_seen(session, _context, _instances):
    """``Referral.person_first_seen_on`` follows its person through the ORM: set on a new referral
    or a new person, rewritten on every referral of a person whose first contact moves (bulk writers
    do the same)."""
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Referral) and (obj in session.new
                                          or _changed(obj, "person", "person_id")):
            # a person detached (set to None) still has its old person_id until this flush: trust
            # the relation
            person = obj.person if _changed(obj, "person") else (
                obj.person or (session.get(Person, obj.person_id) if obj.person_id else None))
            obj.person_first_seen_on = person.first_seen_on if person is not None else None
        elif isinstance(obj, Person) and obj.id is not None and _changed(obj, "first_seen_on"):
            session.connection().execute(
                update(Referral.__table__).where(Referral.person_id == obj.id)
                .values(person_first_seen_on=obj.first_seen_on))


def _changed(obj, *attributes):
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


# --- plan execution (places, action progress, budgets, estimates): its own module, read in one
# sitting ---
from .planexec_models import (  # noqa: F401
    ACTION_STATUSES,
    ActionMilestone,
    ActionStatusChange,
    BudgetLine,
    Funder,
    PlaceCapacity,
    PopulationEstimate,
)

# --- sites and site observations (issue 21): in their own module, part of this schema -------------
from .site_models import (  # noqa: F401
    CoordinationDecision,
    CoordinationMeeting,
    MonthSignoff,
    Partner,
    ReferralHandover,
    Site,
    SiteObservation,
    SiteType,
)
