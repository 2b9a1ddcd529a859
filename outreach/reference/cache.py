"""Reference lists and sectors kept in memory, one copy per process (per app), checked once per
request.

A contact save used to read the lists a dozen times (codes of the form, items by id). Each process
now keeps one copy of every list and sector and, once per request (``flask.g``), compares the
version row (``reference_versions``, one primary-key read) with the version its copy was read at.
Every flush that adds, changes or deletes an item or a sector writes a new random version in the
same transaction (``_bump``), so every other process (gunicorn worker, server) reloads at its next
request once the edit is committed, and a rolled-back edit leaves a version nobody will meet again.
While the session holds such an uncommitted edit, reads go to the database (the editing request sees
its own change; the shared copy never holds it).

The cached objects are detached; callers get session copies (``Session.merge(load=False)``, no SQL),
so they can be put in relationships and rendered like rows read from the database.
"""

import itertools
import uuid

from flask import current_app, g, has_app_context
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from ..extensions import db
from ..models import ReferenceVersion, RefItem, Sector

KEY = "outreach.reference_cache"
CHANGED = "outreach.reference_changed"  # session.info flag: this transaction edited a list


class Lists:
    """One consistent copy of every list (inactive items too) and every sector, in display order."""

    def __init__(self, version, items, sectors):
        self.version = version
        self.by_kind = {}
        for item in items:
            self.by_kind.setdefault(item.kind, []).append(item)
        self.items = {item.id: item for item in items}
        self.sectors = sectors
        self.sector_ids = {sector.id: sector for sector in sectors}
        self.codes = {kind: {i.code: i.id for i in rows} for kind, rows in self.by_kind.items()}
        self.sector_codes = {sector.code: sector.id for sector in sectors}


def _detached(model, rows):
    """ORM objects from plain rows, detached with their identity (never in any session)."""
    objects = []
    for row in rows:
        obj = model(**row)
        make_transient_to_detached(obj)
        objects.append(obj)
    return objects


def _read(version):
    items = (
        db.session.execute(
            select(RefItem.__table__).order_by(RefItem.kind, RefItem.position, RefItem.id)
        )
        .mappings()
        .all()
    )
    sectors = (
        db.session.execute(select(Sector.__table__).order_by(Sector.position, Sector.id))
        .mappings()
        .all()
    )
    return Lists(version, _detached(RefItem, items), _detached(Sector, sectors))


_VERSION = select(ReferenceVersion.version).where(ReferenceVersion.id == 1)  # built once


def _version():
    return db.session.execute(_VERSION).scalar()


def current():
    """The lists as this request sees them: the process's copy when its version is the
    database's."""
    if db.session.info.get(CHANGED):
        db.session.flush()
        return _read(None)  # this transaction's own edit: never shared
    state = current_app.extensions.setdefault(KEY, {"lists": None})
    lists = state["lists"]
    if lists is not None and g.get(KEY) == lists.version:
        return lists
    version = _version()  # read before the lists: a copy is never newer-labelled than what it holds
    if lists is None or lists.version != version or version is None:
        lists = _read(version)
        state["lists"] = lists
    g.setdefault(KEY, version)
    return lists


def attach(objects):
    """Session copies of cached objects (no SQL): usable in relationships, lazy attributes and
    all."""
    merge = db.session.merge
    return [merge(obj, load=False) for obj in objects]


@event.listens_for(Session, "after_flush")
def _bump(session, _flush_context):
    """A flush that touched a list or a sector writes a new version in its own transaction."""
    touched = itertools.chain(session.new, session.dirty, session.deleted)
    if not any(isinstance(obj, (RefItem, Sector)) for obj in touched):
        return
    session.info[CHANGED] = True
    token = uuid.uuid4().hex
    conn = session.connection()
    table = ReferenceVersion.__table__
    if conn.execute(update(table).where(table.c.id == 1).values(version=token)).rowcount == 0:
        conn.execute(insert(table).values(id=1, version=token))
    if has_app_context():
        current_app.extensions.setdefault(KEY, {"lists": None})["lists"] = None
        g.pop(KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _edit_ended(session, transaction):
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
