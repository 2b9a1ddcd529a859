"""Passwords (argon2id), sessions, API tokens and security headers."""
import hashlib
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_loaded_from_request, user_logged_in, user_logged_out

from .extensions import db, login_manager
from .models import ApiToken, User

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters (RFC 9106, 64 MiB)
_DUMMY_HASH = _hasher.hash("timing-equaliser")
# Still argon2id, with 1 MiB and one pass: only for test apps (TESTING and FAST_PASSWORD_HASHING both set),
# where the standard 0.1 s per hash and per login made up a third of the suite's time.
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
    return _test_hasher if config.get("TESTING") and config.get("FAST_PASSWORD_HASHING") else _hasher


def hash_password(password):
    return _current_hasher().hash(password)


def verify_password(user, password):
    """True when ``password`` matches; spends the same time when there is no user."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token(user, label=""):
    """Create a bearer token; only its SHA-256 is stored, the clear value is returned once."""
    clear = "otk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(clear), label=label))
    return clear


def _token_hash(clear):
    return hashlib.sha256(clear.encode()).hexdigest()


@login_manager.user_loader
def _load_user(user_id):
    uid, _, version = user_id.partition(":")
    user = db.session.get(User, int(uid)) if uid.isdigit() else None
    if user is None or str(user.session_version) != version:
        return None
    return user


@login_manager.request_loader
def _load_user_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=_token_hash(header[7:].strip()), revoked_at=None)
    ).scalar_one_or_none()
    if token is None or not token.user.is_active:
        return None
    return token.user


@user_loaded_from_request.connect
def _mark_token_request(app, user=None):
    # A bearer token is not a cookie: CSRF cannot apply, and no session cookie is issued.
    request.environ["outreach.token_auth"] = True


def is_token_request():
    return bool(request.environ.get("outreach.token_auth"))


def _headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static" and "Cache-Control" not in h:
        h["Cache-Control"] = "no-store"
    return response


# Requests that never need the session: their responses must not carry a cookie.
_SESSIONLESS_ENDPOINTS = {"static", "offline.service_worker", "offline.manifest"}
# Sent by the service worker when it caches signed-in pages in the background (templates/offline/sw.js):
# no user is waiting on those answers, and one landing after a logout must not sign the user back in.
WARM_HEADER = "X-Outreach-Warm"


class CookieSessions(SecureCookieSessionInterface):
    """Signed cookie sessions, written only when they changed or, for a signed-in session, to push back
    its idle expiry (SESSION_HOURS) on page and API requests.

    Flask would otherwise re-send the cookie on every response of a permanent session, static files and
    the service worker's background fetches included. A slow one of those, sent with the cookie of
    before a login or a logout, then overwrites the newer cookie when it lands: the login does not stick
    (seen in the browser tests), or a logout is undone. Bearer-token requests and the service worker's
    warm-up of signed-in pages (WARM_HEADER) never get a cookie."""

    def should_set_cookie(self, app, session):
        if is_token_request() or WARM_HEADER in request.headers:
            return False
        if session.modified:
            return True
        return (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
                and request.endpoint not in _SESSIONLESS_ENDPOINTS)


@user_logged_in.connect
def _signed_in_session_is_permanent(app, user=None):
    session.permanent = True  # expires after SESSION_HOURS of inactivity, refreshed by each request


@user_logged_out.connect
def _signed_out_session_is_not(app, user=None):
    session.permanent = False  # the anonymous session left after logout is not refreshed


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    # No IP/agent binding: phones hop between 4G and Wi-Fi, and "basic" only flips a freshness flag we
    # never read (while writing the cookie from background requests). Sessions end on idle expiry, logout,
    # or a session_version bump (password change, role change, disable).
    login_manager.session_protection = None
    app.session_interface = CookieSessions()
    app.after_request(_headers)
