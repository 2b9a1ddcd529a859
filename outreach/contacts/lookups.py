"""Known-or-new lookups of a pseudonym digest: only for a worker in an open shift, throttled,
audited.

The lookup answers for every organisation ("known: last seen on DATE by TEAM"), so it is an oracle:
whoever can call it freely can test a named neighbour. Each lookup is written to the audit log (who,
when, known or new; never the digest nor the code), and those rows are also the throttle's counter,
shared by every server process. Beyond ``PERSON_LOOKUP_ALERT`` in its window, one alert per user and
window goes to the audit log of the user's organisation, where its admin sees it on the admin pages;
beyond ``PERSON_LOOKUP_LIMIT`` the lookup is refused (429). Functions never commit.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from limits import parse_many

from .. import audit
from ..errors import Conflict
from ..extensions import db
from ..models import AuditEvent, utcnow
from ..pseudonyms import services as pseudonyms

LOOKUP = "person.lookup"
ALERT = "person.lookup_alert"
ALERT_DAYS = 7  # how long an alert stays on the admin pages


class TooManyLookups(Exception):
    """The user went over ``PERSON_LOOKUP_LIMIT``: answered with 429."""


def _windows(setting):
    """[(amount, seconds)] from a setting such as "60 per hour;150 per 12 hours"."""
    return [(item.amount, item.get_expiry()) for item in parse_many(current_app.config[setting])]


def _count(user, action, seconds):
    since = utcnow() - timedelta(seconds=seconds)
    query = db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.actor_id == user.id, AuditEvent.action == action,
        AuditEvent.occurred_at >= since)
    return db.session.execute(query).scalar()


def _alert_if_unusual(user, shift):
    """One alert per user and window once the lookups in the window reach the alert threshold."""
    for amount, seconds in _windows("PERSON_LOOKUP_ALERT"):
        count = _count(user, LOOKUP, seconds)
        if count >= amount and not _count(user, ALERT, seconds):
            audit.record(ALERT, actor=user, target=("users", user.id),
                         organisation_id=user.organisation_id,
                         after=str(count),
                         details={"lookups": count, "window_minutes": seconds // 60,
                                  "team": shift.team.code if shift else None},
                         reason=_("Volume inhabituel de recherches de code personne."))
            return


def look_up_person(user, shift, digest):
    """``{known, last_seen_on, last_seen_team}`` for a stage-1 digest; the lookup is audited.

    Raises Conflict outside an open shift (as recording a contact does), ValidationError for a
    malformed digest, TooManyLookups over the limit (after writing the alert)."""
    if shift is None or not shift.is_open:
        raise Conflict(_("Recherche possible seulement pendant une maraude ouverte."))
    code = pseudonyms.code_from_digest(digest)
    if any(_count(user, LOOKUP, seconds) >= amount
           for amount, seconds in _windows("PERSON_LOOKUP_LIMIT")):
        _alert_if_unusual(user, shift)
        raise TooManyLookups(_("Trop de recherches de code personne : réessayez plus tard. "
                               "L'administration de votre organisation en est informée."))
    status = pseudonyms.person_status(code, user)
    audit.record(LOOKUP, actor=user, target=shift, organisation_id=user.organisation_id,
                 after="known" if status["known"] else "new")
    db.session.flush()
    _alert_if_unusual(user, shift)
    return status


def recent_alerts(organisation_id):
    """Alerts of the last ALERT_DAYS, newest first (every organisation when ``organisation_id`` is
    None)."""
    since = utcnow() - timedelta(days=ALERT_DAYS)
    query = (
        db.select(AuditEvent).where(AuditEvent.action == ALERT, AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.id.desc()).limit(50))
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    return db.session.execute(query.options(db.joinedload(AuditEvent.actor))).scalars().all()
