"""Authentication rules: credentials and one-time codes, login delays, password policy."""
import hmac
import math
import os
from datetime import UTC, datetime

from flask_babel import gettext as _

from .. import audit
from ..extensions import db
from ..models import User, utcnow
from ..security import hash_password, revoke_access, verify_password
from . import throttle

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
    query = db.select(User).filter_by(email=email.strip().lower())
    return db.session.execute(query).scalar_one_or_none()


class Refused(Exception):
    """A login or a re-authentication refused: ``message`` for the person, ``status`` for the
    answer."""

    def __init__(self, message, status=401):
        super().__init__(message)
        self.message, self.status = message, status


def authenticate(email, password, code, address):
    """The user whose password and (when enrolled) one-time code are right, else ``Refused``.

    Every failure, a wrong or missing code included, is audited as a failure and counts towards
    the login delays; while a delay runs nothing is checked, and the answer is the same for every
    account, existing or not. Does not commit."""
    _check_wait(email, address)
    user = find_user(email)
    if not verify_password(user, password) or not user.is_enabled:
        _fail(user, email, address, "password")
        raise Refused(_("Adresse e-mail ou mot de passe incorrect."))
    if not consume_totp(user, code):
        _fail(user, email, address, "totp")
        raise Refused(_("Code à usage unique manquant ou incorrect."))
    throttle.clear_account(email)
    user.last_login_at = utcnow()
    audit.record("login", actor=user, target=user, details={"ip": address})
    return user


def confirm_identity(user, password, code, address, with_code=True):
    """A signed-in user proves it again before changing a credential: the password, and with
    ``with_code`` the current one-time code when enrolled. Failures count and are audited as for a
    login. Raises ``Refused``; does not commit."""
    _check_wait(user.email, address)
    if not verify_password(user, password):
        _fail(user, user.email, address, "password", action="reauth_failed")
        raise Refused(_("Mot de passe actuel incorrect."), 422)
    if with_code and not consume_totp(user, code):
        _fail(user, user.email, address, "totp", action="reauth_failed")
        raise Refused(_("Code à usage unique manquant ou incorrect."), 422)


def _check_wait(email, address):
    seconds = throttle.wait_seconds(email, address)
    if seconds:
        raise Refused(_("Trop de tentatives pour ce compte ou depuis cette adresse : "
                        "réessayez dans %(minutes)d min.", minutes=math.ceil(seconds / 60)), 429)


def _fail(user, email, address, reason, action="login_failed"):
    details = {"ip": address, "reason": reason}
    if user is None:
        details["email"] = email[:254]
    audit.record(action, actor=user, target=user, details=details)
    wait = throttle.record_failure(email, address)
    if wait:
        audit.record("login_delayed", actor=user, target=user, details={**details, "seconds": wait})


def change_password(user, new_password):
    """Every session of the user ends and every API token is revoked; the caller signs this
    browser in again."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revoke_access(user, user)
    audit.record("password_changed", actor=user, target=user)


# --- TOTP ------------------------------------------------------------------------------------

def totp_step(secret, code):
    """The 30-s time step, within one step of now, whose code is ``code``; None when none is."""
    import pyotp
    code = (code or "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    return next((step for step in (now - 1, now, now + 1)
                 if hmac.compare_digest(totp.generate_otp(step), code)), None)


def consume_totp(user, code):
    """True when the user has no second factor, or ``code`` is a current code of it from a later
    time step than the last one accepted: a code works once, even when two requests race (one
    conditional UPDATE). The step is recorded."""
    if not user.totp_secret:
        return True
    step = totp_step(user.totp_secret, code)
    if step is None:
        return False
    later = (User.totp_last_step.is_(None)) | (User.totp_last_step < step)
    done = db.session.execute(db.update(User).where(User.id == user.id, later)
                              .values(totp_last_step=step))
    return done.rowcount == 1
