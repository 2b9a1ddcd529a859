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
    Setting("PSEUDONYM_KEY", None, "Server key of the stage-2 HMAC of pseudonym codes.",
            secret=True),
    Setting("PLAN_SALT", "plan-crack-paris-2019", "Public salt of the stage-1 digest, shared by "
            "every organisation of the plan."),
    Setting("PSEUDONYM_ITERATIONS", 200000, "PBKDF2-SHA-256 rounds of the stage-1 digest "
            "(published in the logging page; fixed for the life of the plan: changing it, or "
            "PLAN_SALT, gives every person a new code).", cast=int),
    Setting("DATABASE_URL", None, "SQLAlchemy URL; default: SQLite file in instance/."),
    Setting("SESSION_HOURS", 12, "A session ends after this many hours without a request (a night "
            "shift).", cast=float),
    Setting("SESSION_MAX_HOURS", 24, "A session ends this many hours after login, however busy: a "
            "copied cookie does not live for ever.", cast=float),
    Setting("TOKEN_DAYS", 90, "API tokens expire this many days after they are issued "
            "(create-token --days).", cast=int),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "Flask-Limiter storage: "
            "redis://127.0.0.1:6379/0 in production. memory:// counts in each process apart: "
            "gunicorn refuses to start with it and more than one worker in production "
            "(gunicorn.conf.py)."),
    Setting("LOGIN_LIMIT", "10 per minute;50 per hour", "Login attempts per address and per "
            "account."),
    Setting("LOGIN_DELAY_AFTER", 5, "Consecutive failed logins on one account before each further "
            "attempt must wait, 30 s then twice as long each time (no lockout).", cast=int),
    Setting("LOGIN_DELAY_AFTER_ADDRESS", 20, "The same, for failed logins from one address (any "
            "account).", cast=int),
    Setting("LOGIN_MAX_DELAY_MINUTES", 15, "Longest wait between two login attempts after "
            "failures.", cast=int),
    Setting("SUPPRESSION_THRESHOLD", 5, "Outside an organisation, counts below this value (zero "
            "included) are withheld and shown as '< N'; 0 withholds nothing.", cast=int),
    Setting("DISCLOSURE_CONTROL", "on", "Cell-key perturbation of every figure a plan manager or "
            "the public reads (README, 'Secret statistique'); 'off' publishes exact figures "
            "(tests of the measures only: refused in production)."),
    Setting("DISCLOSURE_NOISE", 2, "Largest perturbation of a published count (the stated bound "
            "between a published figure and the truth).", cast=int),
    Setting("DISCLOSURE_KEY", None, "Secret choosing each cell's perturbation; default: derived "
            "from the first pseudonym key. Changing it gives every cell a new perturbation: never "
            "change it once figures are published, or subtracting old from new figures starts to "
            "average the noise out."),
    Setting("PERSON_LOOKUP_LIMIT", "60 per hour;150 per 12 hours", "Known-or-new lookups of a "
            "person code per user (a night's real use is tens); beyond, the lookup is refused and "
            "the organisation's admin alerted."),
    Setting("PERSON_LOOKUP_ALERT", "40 per hour;100 per 12 hours", "Lookups per user that raise "
            "an alert on the admin pages and in the audit log of the user's organisation."),
    Setting("RETENTION_MONTHS", 24, "Person-level data older than this is purged.", cast=int),
    Setting("UNDO_MINUTES", 5, "Minutes during which a worker can undo a contact just saved.",
            cast=int),
    Setting("IMPORT_MAX_ROWS", 50000, "Most rows per import through the web page, so it answers "
            "well within the server's request timeout; the import-contacts command has no limit.",
            cast=int),
    Setting("READ_MAX_MONTHS", 60, "Longest period, in months, that a dashboard page, an export "
            "or the read API covers in one request; beyond, the request is refused (400) with "
            "this limit in the message.", cast=int),
    Setting("READ_MAX_VALUES", 500, "Most values one read-API answer holds (indicators of the "
            "page times groups); beyond, the request is refused (400): ask fewer indicators per "
            "page, a shorter period or coarser groups.", cast=int),
    Setting("ROLLUPS_READ_SLICES", None, "Largest backlog of roll-up marks (slices: a team's "
            "month) that an indicator page or the read API catches up before answering (default "
            "2; test apps: -1). Beyond, it answers at once from the figures as they stand, says "
            "their time, and a thread catches up in the background; -1: always catch up first.",
            cast=int),
    Setting("DEFAULT_LOCALE", "fr", "Interface language: fr or en."),
    Setting("HSTS_SECONDS", 31536000, "In production, browsers are told to use HTTPS only for "
            "this long (Strict-Transport-Security max-age; 0: header not sent).", cast=int),
    Setting("PROXY_HOPS", 0, "Reverse proxies (nginx) in front of the app whose "
            "X-Forwarded-For/-Proto are trusted; set 1 behind nginx so login limits and the audit "
            "log see the client's address.", cast=int),
]

MIN_PRODUCTION_ITERATIONS = 100_000


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used."""


def _from_env(setting):
    raw = os.environ.get("OUTREACH_" + setting.name)
    if raw is None:
        return setting.default
    try:
        return setting.cast(raw)
    except ValueError as exc:
        raise ConfigError(f"OUTREACH_{setting.name}: {raw!r} is not a valid "
                          f"{setting.cast.__name__}") from exc


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
    disclosure_off = str(values["DISCLOSURE_CONTROL"]).lower() in ("off", "0", "false", "no")
    if values["ENV"] == "production" and disclosure_off:
        raise ConfigError("OUTREACH_DISCLOSURE_CONTROL=off publishes exact small counts: "
                          "refused in production")
    if missing and values["ENV"] == "production":
        names = ", ".join("OUTREACH_" + n for n in missing)
        raise ConfigError(f"Production needs these secrets in the environment: {names}")
    if missing:
        generated = _dev_secrets(instance_path)
        values.update({n: generated[n] for n in missing})
    _check_stage1_cost(values)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "outreach.db")
    return _flask_config(values, override)


def _check_stage1_cost(values):
    """PBKDF2 needs at least one round; production refuses a stage 1 cheap enough to reverse in
    bulk."""
    floor = MIN_PRODUCTION_ITERATIONS if values["ENV"] == "production" else 1
    if int(values["PSEUDONYM_ITERATIONS"]) < floor:
        raise ConfigError(f"OUTREACH_PSEUDONYM_ITERATIONS must be at least {floor:,} (README: "
                          "Pseudonym codes)")


def _flask_config(values, override):
    production = values["ENV"] == "production"
    config = dict(values)
    config.update(
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["SESSION_MAX_HOURS"]),
        SESSION_REFRESH_EACH_REQUEST=False,  # idle expiry is kept on the server (security.py)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=production,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=values["DEFAULT_LOCALE"],
        # every time shown is Paris time (Babel converts from UTC)
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_ENABLED=True,
    )
    config.update({k: v for k, v in override.items() if k not in values})
    return config


MEMORY_LIMITER = (
    "OUTREACH_RATELIMIT_STORAGE_URI is memory://: each process counts rate limits on its own, so "
    "{workers} workers let {workers} times as many attempts through. Set "
    "OUTREACH_RATELIMIT_STORAGE_URI=redis://... (README, Production).")


def limiter_problem(values, workers):
    """Why production must not start with this rate-limit storage and this many worker processes,
    or None."""
    memory = str(values.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://")
    if values.get("ENV") == "production" and memory and workers > 1:
        return MEMORY_LIMITER.format(workers=workers)
    return None


def settings_from_env():
    """Every setting from the environment and the defaults (for gunicorn.conf.py, before any app
    exists)."""
    return {s.name: _from_env(s) for s in SETTINGS}


def describe():
    """Lines documenting every setting (used by the README test and `flask settings`)."""
    return [f"OUTREACH_{s.name}: {s.help} (default: "
            f"{s.default if not s.secret else 'generated in development'})" for s in SETTINGS]
