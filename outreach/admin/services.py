"""Account administration. Every change is audited; nothing here commits.

An organisation admin manages its own organisation's users and teams; an instance
admin (``organisation_id`` NULL) manages everyone.
"""
import hashlib
import secrets
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .. import audit
from ..access import get_scoped_or_404, organisation_scope, scoped
from ..auth import throttle
from ..auth.services import totp_step
from ..extensions import db
from ..models import Organisation, Team, User, utcnow
from ..security import end_sessions, hash_password, revoke_access
from ..shifts.services import PARIS

INVITATION_HOURS = 72


def scoped_users(admin):
    return scoped(db.select(User).order_by(User.email), User, admin)


def get_user(admin, user_id):
    """The user ``user_id`` if ``admin`` manages it, else 404 (never reveal other organisations)."""
    return get_scoped_or_404(User, user_id, admin)


def scoped_teams(admin):
    query = db.select(Team).filter_by(is_active=True).order_by(Team.name)
    return db.session.execute(scoped(query, Team, admin)).scalars().all()


def scoped_organisations(admin):
    query = db.select(Organisation).order_by(Organisation.name)
    return db.session.execute(scoped(query, Organisation, admin)).scalars().all()


def assignable_roles(admin):
    """Only an instance admin may create plan managers (who see every organisation's aggregates)."""
    roles = ("worker", "supervisor", "manager", "admin")
    return roles if organisation_scope(admin) is None else tuple(r for r in roles if r != "manager")


def _teams_by_id(admin, team_ids, organisation_id):
    allowed = {t.id: t for t in scoped_teams(admin) if t.organisation_id == organisation_id}
    return [allowed[i] for i in team_ids if i in allowed]


def invite_user(admin, email, role, organisation_id, team_ids):
    """Create an account with no usable password yet; returns it."""
    if organisation_scope(admin) is not None:
        organisation_id = admin.organisation_id
    user = User(email=email.strip().lower(), role=role, organisation_id=organisation_id,
                password_hash=hash_password(secrets.token_urlsafe(32)))
    user.teams = _teams_by_id(admin, team_ids, organisation_id)
    db.session.add(user)
    db.session.flush()
    audit.record("user_invited", actor=admin, target=user, after=role,
                 details={"teams": sorted(t.code for t in user.teams)})
    return user


# --- one-time invitation links ------------------------------------------------------
# The token is signed (SECRET_KEY) and bound to a hash of the current password hash:
# setting a password, or a new invitation, makes every earlier link useless. Nothing
# to store, and it expires after INVITATION_HOURS.

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="outreach-invitation")


def _binding(user):
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def invitation_token(user):
    return _serializer().dumps({"u": user.id, "b": _binding(user)})


def user_for_invitation(token):
    """The user a valid, unused, unexpired token was issued for, else None."""
    try:
        data = _serializer().loads(token, max_age=INVITATION_HOURS * 3600)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_enabled or data.get("b") != _binding(user):
        return None
    return user


def accept_invitation(user, password):
    user.password_hash = hash_password(password)
    user.must_change_password = False
    revoke_access(user, user)
    audit.record("invitation_accepted", actor=user, target=user)


def reissue_invitation(admin, user):
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    revoke_access(user, admin)
    audit.record("invitation_sent", actor=admin, target=user)
    return invitation_token(user)


def set_temporary_password(admin, user):
    """A random temporary password, shown once; the user must change it at next login."""
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    user.password_hash = hash_password(password)
    user.must_change_password = True
    revoke_access(user, admin)
    audit.record("temporary_password_set", actor=admin, target=user)
    return password


# --- role, teams, state -----------------------------------------------------------------

def change_role(admin, user, role):
    if role != user.role:
        audit.record("role_changed", actor=admin, target=user, field="role", before=user.role,
                     after=role)
        user.role = role
        end_sessions(user)


def change_teams(admin, user, team_ids):
    teams = _teams_by_id(admin, team_ids, user.organisation_id)
    before, after = sorted(t.code for t in user.teams), sorted(t.code for t in teams)
    if before != after:
        audit.record("teams_changed", actor=admin, target=user, field="teams",
                     before=",".join(before), after=",".join(after))
        user.teams = teams


def set_enabled(admin, user, enabled):
    if user.id == admin.id and not enabled:
        return False
    if user.is_enabled != enabled:
        user.is_enabled = enabled
        if not enabled:
            revoke_access(user, admin)
        audit.record("user_enabled" if enabled else "user_disabled", actor=admin, target=user)
    return True


def unlock_user(admin, user):
    """Lift the login delay of an account at once (it would end by itself after a while)."""
    state = throttle.account_delay(user.email)
    throttle.clear_account(user.email)
    audit.record("user_unlocked", actor=admin, target=user, before=state[0] if state else 0,
                 after=0)


def reset_totp(admin, user):
    if user.totp_secret:
        user.totp_secret = None
        user.totp_last_step = None
        end_sessions(user)
        audit.record("totp_reset", actor=admin, target=user)


# --- TOTP enrolment (managers and admins) --------------------------------------------------

def new_totp_secret():
    import pyotp
    return pyotp.random_base32()


def totp_uri(user, secret):
    import pyotp
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="outreach")


def enrol_totp(user, secret, code):
    """Store ``secret`` when ``code`` proves the authenticator has it (the code is then used up);
    returns success. The caller has checked the password and the code of the factor in use
    (confirm_identity)."""
    step = totp_step(secret, code)
    if step is None:
        return False
    replaced = bool(user.totp_secret)
    user.totp_secret = secret
    user.totp_last_step = max(step, user.totp_last_step or 0)  # this code cannot sign in afterwards
    audit.record("totp_changed" if replaced else "totp_enrolled", actor=user, target=user)
    return True


# --- audit log -------------------------------------------------------------------------------

def audit_events(admin, action=None, email=None, start=None, end=None, limit=200):
    from ..models import AuditEvent
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    org_id = organisation_scope(admin)
    # its own organisation's events, and changes to the data every organisation shares
    if org_id is not None:
        query = query.filter(db.or_(AuditEvent.organisation_id == org_id, db.and_(
            AuditEvent.organisation_id.is_(None),
            AuditEvent.target_type.in_(audit.SHARED_TARGETS))))
    if action:
        query = query.filter(AuditEvent.action == action)
    if email:
        query = (query.join(User, AuditEvent.actor_id == User.id)
                 .filter(User.email == email.strip().lower()))
    if start:  # the days the page shows: Paris days, stored as UTC
        query = query.filter(AuditEvent.occurred_at >= _paris_midnight_utc(start))
    if end:
        query = query.filter(AuditEvent.occurred_at < _paris_midnight_utc(end + timedelta(days=1)))
    from sqlalchemy.orm import selectinload
    return db.session.execute(query.options(selectinload(AuditEvent.actor))).scalars().all()


def _paris_midnight_utc(day):
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def audit_actions():
    from ..models import AuditEvent
    query = db.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return db.session.execute(query).scalars().all()


__all__ = ["utcnow"]
