"""Authentication rules: credentials check, lockout, password policy."""
import os

from flask import current_app
from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..models import User, utcnow
from ..security import hash_password, verify_password

MIN_PASSWORD_LENGTH = 12
_COMMON_PASSWORDS_FILE = os.path.join(os.path.dirname(__file__), "common_passwords.txt")
_common = None


def common_passwords():
    global _common
    if _common is None:
        with open(_COMMON_PASSWORDS_FILE, encoding="utf-8") as fh:
            _common = {line.strip().lower() for line in fh if line.strip()}
    return _common


def password_problem(password):
    """A French message when ``password`` breaks the policy, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Au moins %(n)d caractères.", n=MIN_PASSWORD_LENGTH)
    if password.lower() in common_passwords():
        return _("Ce mot de passe est trop courant : choisissez-en un autre.")
    return None


def find_user(email):
    return db.session.execute(db.select(User).filter_by(email=email.strip().lower())).scalar_one_or_none()


def authenticate(email, password, remote_addr):
    """Return (user, error message). Records the attempt in the audit log; does not commit."""
    user = find_user(email)
    if user is not None and user.locked_at is not None:
        audit.record("login_refused_locked", actor=user, target=user, details={"ip": remote_addr})
        return None, _("Compte verrouillé après trop d'échecs. Demandez à un·e administrateur·rice de le débloquer.")
    if not verify_password(user, password) or not user.is_enabled:
        _register_failure(user, email, remote_addr)
        return None, _("Adresse e-mail ou mot de passe incorrect.")
    user.failed_logins = 0
    user.last_login_at = utcnow()
    audit.record("login", actor=user, target=user, details={"ip": remote_addr})
    return user, None


def _register_failure(user, email, remote_addr):
    details = {"ip": remote_addr}
    if user is None:
        details["email"] = email[:254]
    else:
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOCKOUT_AFTER"]:
            user.locked_at = utcnow()
            audit.record("account_locked", actor=user, target=user, details=details)
    audit.record("login_failed", actor=user, target=user, details=details)


def change_password(user, new_password):
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_version += 1
    audit.record("password_changed", actor=user, target=user)


def verify_totp(user, code):
    """True when the user has no second factor, or ``code`` is its current TOTP."""
    if not user.totp_secret:
        return True
    import pyotp
    return bool(code) and pyotp.TOTP(user.totp_secret).verify(code.strip(), valid_window=1)
