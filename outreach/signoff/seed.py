"""Demo sign-offs in every state (``seed-demo --history``): for each organisation, the finished
months whose shifts are all validated, the latest first: signed off, returned with a comment,
accepted, accepted then reopened. Months already in the chain, or not fully validated, are left
alone; an empty history gets nothing (the tests' seed). Idempotent."""
import datetime as dt

from ..extensions import db
from ..models import Organisation, User, utcnow
from . import services

DEMO_STATES = ("signed_off", "returned", "accepted", "reopened")
RETURN_COMMENT = "Deux maraudes du 12 sans matériel noté : vérifier le stock rapporté."
REOPEN_REASON = "Contact saisi sur la mauvaise équipe, signalé après acceptation."


def seed_signoff_demo(today=None):
    manager = db.session.execute(db.select(User).filter_by(role="manager")).scalars().first()
    made = 0
    for organisation in db.session.execute(db.select(Organisation).where(
            Organisation.is_partner_institution.is_(False)).order_by(Organisation.id)).scalars():
        admin = db.session.execute(db.select(User).filter_by(
            role="admin", organisation_id=organisation.id)).scalars().first()
        if admin is None or manager is None or _has_signoffs(organisation):
            continue
        states = iter(DEMO_STATES)
        for month in services.recent_months(6, today)[1:]:
            total, validated = services.shift_counts(organisation.id, month)
            if (total == 0 or validated < total
                or services.get_signoff(organisation.id, month) is not None):
                continue
            state = next(states, None)
            if state is None:
                break
            _place(organisation, month, state, admin, manager)
            made += 1
    db.session.flush()
    return f"demo sign-offs: {made} months"


def _has_signoffs(organisation):
    from ..site_models import MonthSignoff
    return db.session.execute(
        db.select(MonthSignoff.id).filter_by(organisation_id=organisation.id)).first() is not None


def _place(organisation, month, state, admin, manager):
    """Walk the chain as people would, so that the audit trail tells the same story."""
    row = services.sign_off_month(admin, organisation.id, month)
    if state == "returned":
        services.return_month(manager, row, RETURN_COMMENT)
    elif state in ("accepted", "reopened"):
        services.accept_month(manager, row)
        if state == "reopened":
            services.reopen_month(manager, row, REOPEN_REASON)
    row.updated_at = utcnow() - dt.timedelta(minutes=1)
    return row

