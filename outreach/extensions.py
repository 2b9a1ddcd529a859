"""Extensions, created unbound here and attached in ``create_app``."""
from flask import current_app, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

LOCALES = ("fr", "en")
FROM_HEADER = "outreach.language_from_header"


def select_locale():
    """The language the user picked (a cookie set by /langue), else the one their browser or
    integrator asks for (Accept-Language), else French (DEFAULT_LOCALE): pages and API alike.
    Outside a request (command line, background work) the default language."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    chosen = request.cookies.get("lang")
    if chosen not in LOCALES:
        # the answer now depends on Accept-Language (vary_on_language); kept on the request, as
        # Flask-Babel keeps the locale it selected (``g`` may outlive a request in tests)
        request.environ[FROM_HEADER] = True
        chosen = request.accept_languages.best_match(LOCALES)
    return chosen if chosen in LOCALES else current_app.config["DEFAULT_LOCALE"]


def vary_on_language(response):
    """after_request: ``Vary: Accept-Language`` on a response whose language ``select_locale`` took
    from that header (no language picked), so that no cache hands it to a browser asking for
    another language; not on the responses that did not ask for a language (static files, JSON
    without text) nor on those where the cookie decided."""
    if request.environ.get(FROM_HEADER):
        response.vary.add("Accept-Language")
    return response


# Page cache of each pooled SQLite connection (KiB; SQLite's default is 2 MiB): the dashboard's
# reads at 1M contacts (admissions joined to contacts and shifts) stay in memory between requests.
SQLITE_CACHE_KIB = 32 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL, foreign keys, a busy timeout and a larger page cache on every SQLite connection."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000",
                   "foreign_keys=ON", f"cache_size=-{SQLITE_CACHE_KIB}"):
        cursor.execute("PRAGMA " + pragma)
    cursor.close()
