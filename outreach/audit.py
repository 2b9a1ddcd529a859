"""The audit trail: the application only ever appends to it."""
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent

# Data every organisation shares: its changes belong to no organisation, and every admin's log shows
# them.
SHARED_TARGETS = ("ref_items", "sectors", "plans", "sites", "site_types", "partners",
                  "coordination_meetings", "coordination_decisions")


# ``record(..., actor=NOBODY_HERE)``: the event belongs to an organisation none of whose users acted
# (a referral handed over to it): no actor is stored, not even the current user of the other one.
NOBODY_HERE = object()


def record(action, *, actor=None, target=None, field=None, before=None, after=None,
           reason=None, organisation_id=None, details=None):
    """Append one audit event to the session (the caller commits)."""
    if actor is NOBODY_HERE:
        actor = None
    elif actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    target_type, target_id = _target(target)
    if target_type in SHARED_TARGETS:
        organisation_id = None
    elif organisation_id is None:
        organisation_id = (getattr(target, "organisation_id", None)
                           or getattr(actor, "organisation_id", None))
    event_ = AuditEvent(actor=actor, action=action, target_type=target_type, target_id=target_id,
                        field=field, before=_text(before), after=_text(after), reason=reason,
                        organisation_id=organisation_id, details=details)
    db.session.add(event_)
    return event_


def _target(target):
    if target is None:
        return None, None
    if isinstance(target, tuple):
        return target[0], str(target[1])
    return type(target).__tablename__, str(target.id)


def _text(value):
    return None if value is None else str(value)


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _append_only(session, _context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AuditIsAppendOnly("audit events cannot be changed or deleted")
