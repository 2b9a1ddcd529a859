"""Passwords (argon2id), sessions, API tokens and security headers."""
import hashlib
import secrets
import unicodedata
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user, user_loaded_from_request
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload

from . import audit
from .access import PUBLIC, is_api_endpoint, rule_for
from .extensions import db, login_manager
from .models import ApiToken, User, UserSession, utcnow

# argon2id with the library's current recommended parameters (RFC 9106, 64 MiB)
_hasher = PasswordHasher()
SESSION_KEY = "_sid"  # the random session id in the signed cookie (its SHA-256 is user_sessions.id)
TOUCH_EVERY = timedelta(minutes=1)
# Still argon2id, with 1 MiB and one pass: only for test apps (TESTING and FAST_PASSWORD_HASHING
# both set), where the standard 0.1 s per hash and per login made up a third of the suite's time.
_test_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)

CSP = "; ".join([  # noqa: FLY002 (one directive per line reads better)
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
    "worker-src 'self'",
])


def _current_hasher():
    config = current_app.config
    return (_test_hasher if config.get("TESTING") and config.get("FAST_PASSWORD_HASHING")
            else _hasher)


def hash_password(password):
    return _current_hasher().hash(password)


@cache
def _dummy_hash():
    """A hash to verify against when there is no such user (same time spent): made on the first
    failed login, not when the module is imported (0.1-0.4 s of every command, worker and test
    process)."""
    return _hasher.hash("timing-equaliser")


def verify_password(user, password):
    """True when ``password`` matches; spends the same time when there is no user."""
    try:
        return _hasher.verify(user.password_hash if user else _dummy_hash(),
                              password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


# --- API tokens: /api/ only, with an expiry, revocable --------------------------------------------

def new_api_token(user, label="", days=None):
    """Create a bearer token valid ``days`` (default TOKEN_DAYS); only its SHA-256 is stored, the
    clear value is returned once. Does not commit."""
    clear = "otk_" + secrets.token_urlsafe(32)
    days = current_app.config["TOKEN_DAYS"] if days is None else days
    db.session.add(ApiToken(user=user, token_hash=_digest(clear), label=label,
                            expires_at=utcnow() + timedelta(days=days)))
    return clear


def _digest(clear):
    return hashlib.sha256(clear.encode()).hexdigest()


def user_tokens(user):
    """Every token of ``user``, newest first (live, expired and revoked)."""
    return db.session.execute(db.select(ApiToken).filter_by(user_id=user.id)
                              .order_by(ApiToken.created_at.desc(),
                                        ApiToken.id.desc())).scalars().all()


def get_user_token(user, token_id):
    """The token ``token_id`` if it belongs to ``user``, else 404."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    return token


def revoke_token(token, actor):
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token_revoked", actor=actor, target=token.user,
                     details={"token": token.id, "label": token.label})


def revoke_access(user, actor):
    """The password changed or the account was disabled: end every session and revoke every API
    token."""
    end_sessions(user)
    live = db.select(ApiToken).filter_by(user_id=user.id, revoked_at=None)
    for token in db.session.execute(live).scalars():
        revoke_token(token, actor)


# the token, its user and the user's teams in one statement (a save checks the teams); built once:
# building it per request cost more CPU than running it
_TOKEN_QUERY = (db.select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
                .options(joinedload(ApiToken.user).joinedload(User.teams)))


@login_manager.request_loader
def _load_user_from_token(req):
    """A bearer token signs in an /api/ request, nothing else: never a page, an export or the
    audit log."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not is_api_endpoint(current_app, req.endpoint):
        return None
    token = db.session.execute(_TOKEN_QUERY, {"digest": _digest(header[7:].strip())}
                               ).unique().scalar_one_or_none()
    if token is None or not token.is_live or not token.user.is_active:
        return None
    if _due(token.last_used_at):
        token.last_used_at = utcnow()
        db.session.commit()  # first thing in the request (check_access): nothing else is pending
    return token.user


def _due(last):
    """At most one write a minute for the last use of a token or a session."""
    return last is None or utcnow() - last >= TOUCH_EVERY


@user_loaded_from_request.connect
def _mark_token_request(app, user=None):
    # A bearer token is not a cookie: CSRF cannot apply, and no session cookie is issued.
    request.environ["outreach.token_auth"] = True


# --- server-side sessions -------------------------------------------------------------------------
# The signed cookie holds a random session id; the user loader admits it only while its
# user_sessions row exists, was used within SESSION_HOURS and was created within SESSION_MAX_HOURS.
# Logging out, a password change or disabling the account deletes the rows: a cookie copied earlier
# is then worth nothing.

def sign_in(user):
    """Log ``user`` in on this browser with a new session record. Does not commit."""
    clear = secrets.token_urlsafe(32)
    _forget_expired_sessions(user)
    db.session.add(
        UserSession(id=_digest(clear), user_id=user.id, created_at=utcnow(), last_seen_at=utcnow()))
    login_user(user)
    session[SESSION_KEY] = clear
    # the cookie lasts SESSION_MAX_HOURS; idle expiry is checked here, on the server
    session.permanent = True


def sign_out():
    """Log out, ending every session of the user (each of its browsers and phones). Does not
    commit."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    session.pop(SESSION_KEY, None)
    session.permanent = False


def end_sessions(user):
    """End every session of ``user``: the next request of each of its browsers is anonymous."""
    user.session_version += 1
    db.session.execute(db.delete(UserSession).where(UserSession.user_id == user.id))


def _forget_expired_sessions(user):
    idle, oldest = _session_limits()
    db.session.execute(db.delete(UserSession).where(
        UserSession.user_id == user.id,
        (UserSession.last_seen_at < idle) | (UserSession.created_at < oldest)))


def _session_limits():
    now, config = utcnow(), current_app.config
    return (now - timedelta(hours=config["SESSION_HOURS"]),
            now - timedelta(hours=config["SESSION_MAX_HOURS"]))


# a session record and its user in one statement, built once
_SESSION_QUERY = (db.select(UserSession, User).join(User, User.id == UserSession.user_id)
                  .where(UserSession.id == bindparam("digest")))


def _live_session(clear):
    """(the live session record of the cookie's ``clear`` id, its user), or (None, None)."""
    row = (db.session.execute(_SESSION_QUERY, {"digest": _digest(clear)}).first()
           if isinstance(clear, str) else None)
    idle, oldest = _session_limits()
    if row is None or row[0].last_seen_at < idle or row[0].created_at < oldest:
        return None, None
    return row[0], row[1]


@login_manager.user_loader
def _load_user(user_id):
    uid, _, version = user_id.partition(":")
    record, user = _live_session(session.get(SESSION_KEY))
    if record is None or str(record.user_id) != uid:
        return None
    if user is None or str(user.session_version) != version or not user.is_active:
        return None
    if _due(record.last_seen_at):
        record.last_seen_at = utcnow()
        # loaded first thing (check_access or _load_signed_in_user): nothing else is pending
        db.session.commit()
    return user


def _load_signed_in_user():
    """before_request: load the session's user now, so that its last_seen_at write commits
    nothing else."""
    if request.endpoint not in _SESSIONLESS_ENDPOINTS and SESSION_KEY in session:
        current_user._get_current_object()


def is_token_request():
    return bool(request.environ.get("outreach.token_auth"))


def safe_next(target):
    r"""``target`` when it is a path of this site, else None: the one check of every ``next``
    argument.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so
    ``/%09/evil.example`` (``/\t/evil.example`` once decoded) and ``/\evil.example`` lead to another
    site: a control, blank or backslash character refuses the target, as does a scheme, a host, or a
    path not starting with exactly one slash."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(_is_blank_or_control(ch) for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _is_blank_or_control(ch):
    return ch.isspace() or unicodedata.category(ch).startswith("C")


def _headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["ENV"] == "production" and current_app.config["HSTS_SECONDS"]:
        h.setdefault("Strict-Transport-Security", f"max-age={current_app.config['HSTS_SECONDS']}")
    if request.endpoint != "static" and "Cache-Control" not in h:
        h["Cache-Control"] = "no-store"
    return response


# Requests that never need the session: their responses must not carry a cookie.
_SESSIONLESS_ENDPOINTS = {"static", "offline.service_worker", "offline.manifest"}
# Sent by the service worker when it caches signed-in pages in the background
# (templates/offline/sw.js): no user is waiting on those answers, and one landing after a logout
# must not sign the user back in.
WARM_HEADER = "X-Outreach-Warm"


class CookieSessions(SecureCookieSessionInterface):
    """Signed cookie sessions, written only when they changed: never to push back an expiry (the
    idle one is kept on the server, in user_sessions), never on bearer-token requests.

    Flask would otherwise re-send the cookie on every response of a permanent session, static
    files and the service worker's background fetches included. A slow one of those, sent with
    the cookie of before a login or a logout, then overwrote the newer cookie when it landed: the
    login did not stick (seen in the browser tests), or a logout was undone. Bearer-token
    requests and the service worker's warm-up of signed-in pages (WARM_HEADER) never get a
    cookie."""

    def should_set_cookie(self, app, session):
        if is_token_request() or WARM_HEADER in request.headers:
            return False
        return session.modified


# Pages a user with a temporary password may still reach: the change itself, logging out, the
# language.
_BEFORE_PASSWORD_CHANGE = {"auth.password", "auth.logout", "set_language"}


def _password_change_first():
    """before_request: a temporary password must be changed before anything else."""
    endpoint = request.endpoint
    if (endpoint is None or endpoint in _BEFORE_PASSWORD_CHANGE
        or rule_for(current_app, endpoint) == PUBLIC):
        return None
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    if is_api_endpoint(current_app, endpoint):
        return jsonify(error=_("Changez d'abord votre mot de passe temporaire.")), 403
    return to_password_change()


def to_password_change():
    flash(_("Choisissez un nouveau mot de passe avant de continuer."), "info")
    return redirect(url_for("auth.password"))


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # No IP/agent binding: phones hop between 4G and Wi-Fi, and "basic" only flips a freshness flag
    # we never read (while writing the cookie from background requests). Sessions end on idle or
    # absolute expiry, logout, a password change or a disabled account (server-side records, above).
    login_manager.session_protection = None
    app.session_interface = CookieSessions()
    app.before_request(_load_signed_in_user)
    app.before_request(_password_change_first)
    app.after_request(_headers)
