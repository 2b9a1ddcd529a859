"""Progressive login delays, per account and per address, never a lockout.

After LOGIN_DELAY_AFTER consecutive failures on one account (LOGIN_DELAY_AFTER_ADDRESS from one
address, whatever the accounts), the next attempt must wait 30 s, then twice as long after each
further failure, up to LOGIN_MAX_DELAY_MINUTES. Unknown accounts count exactly like real ones, so
the answer never tells whether an account exists. The counters live in the database: every worker
and every instance sees the same ones. A key is forgotten a day after its last failure; a successful
login clears its account's counter.
"""
import hashlib
import math
from datetime import timedelta

from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import LoginThrottle, utcnow

FIRST_DELAY = timedelta(seconds=30)
FORGET_AFTER = timedelta(days=1)


def _key(kind, value):
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def account_key(email):
    return _key("account", (email or "").strip().lower()[:254])


def _keys(email, address):
    config = current_app.config
    return [(account_key(email), config["LOGIN_DELAY_AFTER"]),
            (_key("address", address or ""), config["LOGIN_DELAY_AFTER_ADDRESS"])]


def wait_seconds(email, address):
    """Seconds before the next attempt for this account from this address may be checked (0:
    now)."""
    keys = [key for key, _free in _keys(email, address)]
    until = db.session.execute(db.select(db.func.max(LoginThrottle.blocked_until)).where(
        LoginThrottle.key.in_(keys))).scalar()
    left = (until - utcnow()).total_seconds() if until else 0
    return math.ceil(left) if left > 0 else 0


def record_failure(email, address):
    """Count one failure on the account and on the address; returns the wait it imposes (seconds,
    0: none)."""
    now = utcnow()
    _forget_old(now)
    waits = [_count(key, free, now) for key, free in _keys(email, address)]
    return max(waits)


def _count(key, free, now):
    # rows older than FORGET_AFTER were just deleted: counting starts again
    row = _locked_row(key, now)
    row.failures += 1
    row.last_failed_at = now
    delay = _delay(row.failures - free)
    row.blocked_until = now + delay if delay else None
    return int(delay.total_seconds()) if delay else 0


def _delay(beyond):
    if beyond <= 0:
        return None
    longest = timedelta(minutes=current_app.config["LOGIN_MAX_DELAY_MINUTES"])
    return min(FIRST_DELAY * 2 ** min(beyond - 1, 20), longest)


def _locked_row(key, now):
    """The row of ``key``, created when missing, locked against a concurrent failure
    (PostgreSQL)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(LoginThrottle).values(key=key, failures=0, last_failed_at=now)
                       .on_conflict_do_nothing())
    return db.session.execute(db.select(LoginThrottle).filter_by(key=key).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one()


def _forget_old(now):
    db.session.execute(db.delete(LoginThrottle)
                       .where(LoginThrottle.last_failed_at < now - FORGET_AFTER))


def clear_account(email):
    """A successful login, or an admin's unblocking: the account's failures are forgotten."""
    db.session.execute(db.delete(LoginThrottle).where(LoginThrottle.key == account_key(email)))


def account_delay(email):
    """(failures, blocked until) of the account while a wait is imposed on it, else None (the
    admin page)."""
    row = db.session.get(LoginThrottle, account_key(email))
    if row is None or row.blocked_until is None or row.blocked_until <= utcnow():
        return None
    return row.failures, row.blocked_until
