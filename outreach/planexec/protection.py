"""The one place where plan-execution figures derived from persons meet disclosure protection.

The report card counts across every organisation, whoever reads it, so its person-derived counts are
protected for every reader (not only plan managers): withheld below the threshold, otherwise perturbed by
the dashboard's bounded noise (``indicators.suppression``). These figures are computed from referral rows,
not from roll-up atoms, so their cell key is the figure's family rather than the records' keys: the same true
value of a family always publishes the same value, whatever the period asked.
"""
from flask import current_app

from ..indicators.suppression import Rules, disclosure_key, is_enabled, threshold
from ..indicators.suppression import protect_count as protect

FAMILY = "planexec"


def _rules():
    if not is_enabled():
        return None
    return Rules(threshold(), max(0, int(current_app.config.get("DISCLOSURE_NOISE", 2))), disclosure_key())


def protect_count(value):
    """A count of persons, stays or exits as a plan-level reader may see it."""
    return protect(value, FAMILY, _rules(), family=FAMILY)
