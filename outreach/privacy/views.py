from flask import current_app, render_template

from ..access import public
from . import bp

SETTINGS_SHOWN = ("RETENTION_MONTHS", "SUPPRESSION_THRESHOLD", "DISCLOSURE_NOISE", "SESSION_HOURS",
                  "SESSION_MAX_HOURS", "LOGIN_DELAY_AFTER", "UNDO_MINUTES")


@bp.route("/confidentialite")
@public
def index():
    settings = {name.lower(): current_app.config[name] for name in SETTINGS_SHOWN}
    return render_template("privacy/index.html", **settings)
