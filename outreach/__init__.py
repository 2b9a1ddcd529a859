"""outreach: street outreach logging and plan monitoring, anonymous by design."""
# the one place: setup.cfg reads it, /healthz shows it, CHANGELOG.md says what changed
__version__ = "0.2.0.dev0"

import logging
import os

from flask import Flask

from . import config as config_module
from .extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    select_locale,
    vary_on_language,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BLUEPRINTS = (
    "outreach.auth",
    "outreach.shifts",
    "outreach.contacts",
    "outreach.referrals",
    "outreach.reference",
    "outreach.review",
    "outreach.indicators",
    "outreach.planexec",
    "outreach.exports",
    "outreach.imports",
    "outreach.admin",
    "outreach.api",
    "outreach.privacy",
    "outreach.offline",
    "outreach.maintenance",
    "outreach.sites",
    "outreach.signoff",
)


def create_app(test_config=None):
    """Application factory; ``test_config`` overrides settings (tests)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("OUTREACH_INSTANCE_PATH") or os.path.join(ROOT, "instance"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.from_mapping(config_module.load(app.instance_path, test_config))
    # no blank lines from block tags: lighter pages
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    _init_extensions(app)
    _register_blueprints(app)
    from . import access, cli, labels, numbers, security, views
    access.init_app(app)
    labels.init_app(app)
    numbers.init_app(app)
    security.init_app(app)
    views.init_app(app)
    cli.init_app(app)
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.getLogger("outreach").setLevel(logging.INFO)
    if app.config["ENV"] == "production" and config_module.limiter_problem(app.config, 2):
        # One process may use memory:// (gunicorn.conf.py refuses several); say so at every start.
        logging.getLogger("outreach").warning(
            config_module.MEMORY_LIMITER.format(workers="several"))
    return app


def _init_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=os.path.join(ROOT, "translations"))
    app.after_request(vary_on_language)
    limiter.init_app(app)


def _register_blueprints(app):
    import importlib
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
