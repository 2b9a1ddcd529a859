"""Every setting, declared once: name, default, help, and whether it is a secret.

Values come from, in order: the test override passed to ``create_app``,
``OUTREACH_<NAME>`` environment variables, then the defaults below.
In development the secrets are generated once into ``instance/secrets.json``;
with ``OUTREACH_ENV=production`` a missing secret stops the app with a clear message.
"""
import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    secret: bool = False
    cast: type = str


SETTINGS = [
    Setting("ENV", "development", "development or production"),
    Setting("SECRET_KEY", None, "Signs sessions and CSRF tokens.", secret=True),
    Setting("PSEUDONYM_KEY", None, "Server key of the stage-2 HMAC of pseudonym codes.", secret=True),
    Setting("PLAN_SALT", "plan-crack-paris-2019", "Public salt of the stage-1 digest, shared by every organisation of the plan."),
    Setting("DATABASE_URL", None, "SQLAlchemy URL; default: SQLite file in instance/."),
    Setting("SESSION_HOURS", 12, "Session expiry after inactivity, in hours (a night shift).", cast=float),
    Setting("SUPPRESSION_THRESHOLD", 5, "Counts from 1 to this value minus one are shown as '< N' outside an organisation.", cast=int),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "Flask-Limiter storage, e.g. redis://127.0.0.1:6379/0 for several instances."),
    Setting("LOGIN_LIMIT", "10 per minute;50 per hour", "Login attempts per address and per account."),
    Setting("LOCKOUT_AFTER", 10, "Consecutive failed logins that lock an account until an admin unlocks it.", cast=int),
    Setting("RETENTION_MONTHS", 24, "Person-level data older than this is purged.", cast=int),
    Setting("UNDO_MINUTES", 5, "Minutes during which a worker can undo a contact just saved.", cast=int),
    Setting("IMPORT_MAX_ROWS", 50000, "Most rows per import through the web page, so it answers well within the "
            "server's request timeout; the import-contacts command has no limit.", cast=int),
    Setting("DEFAULT_LOCALE", "fr", "Interface language: fr or en."),
    Setting("PROXY_HOPS", 0, "Reverse proxies (nginx) in front of the app whose X-Forwarded-For/-Proto are trusted; "
            "set 1 behind nginx so login limits and the audit log see the client's address.", cast=int),
]

_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used."""


def _from_env(setting):
    raw = os.environ.get("OUTREACH_" + setting.name)
    if raw is None:
        return setting.default
    try:
        return setting.cast(raw)
    except ValueError as exc:
        raise ConfigError(f"OUTREACH_{setting.name}: {raw!r} is not a valid {setting.cast.__name__}") from exc


def _dev_secrets(instance_path):
    """Generate the development secrets once and keep them in instance/."""
    path = os.path.join(instance_path, "secrets.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    values = {s.name: secrets.token_hex(32) for s in SETTINGS if s.secret}
    os.makedirs(instance_path, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(values, fh)
    return values


def load(instance_path, override=None):
    """Return the configuration mapping for the app."""
    override = override or {}
    values = {s.name: override.get(s.name, _from_env(s)) for s in SETTINGS}
    missing = [s.name for s in SETTINGS if s.secret and not values[s.name]]
    if missing and values["ENV"] == "production":
        names = ", ".join("OUTREACH_" + n for n in missing)
        raise ConfigError(f"Production needs these secrets in the environment: {names}")
    if missing:
        generated = _dev_secrets(instance_path)
        values.update({n: generated[n] for n in missing})
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "outreach.db")
    return _flask_config(values, override)


def _flask_config(values, override):
    production = values["ENV"] == "production"
    config = dict(values)
    config.update(
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["SESSION_HOURS"]),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=production,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=values["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",  # every time shown is Paris time (Babel converts from UTC)
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_ENABLED=True,
    )
    config.update({k: v for k, v in override.items() if k not in values})
    return config


def describe():
    """Lines documenting every setting (used by the README test and `flask settings`)."""
    return [f"OUTREACH_{s.name}: {s.help} (default: {s.default if not s.secret else 'generated in development'})"
            for s in SETTINGS]
