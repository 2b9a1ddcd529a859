"""Reference lists: install the defaults idempotently, read active items by kind."""
from ..extensions import db
from ..models import RefItem, Sector
from . import defaults


def ensure_defaults():
    """Insert the default lists and sectors that are missing; never overwrite an admin's edit."""
    existing = {(k, c) for k, c in db.session.execute(db.select(RefItem.kind, RefItem.code))}
    for kind, entries in defaults.LISTS.items():
        frequent = defaults.FREQUENT.get(kind, set())
        for position, entry in enumerate(entries):
            code, label, label_en, *unit = entry
            if (kind, code) not in existing:
                db.session.add(RefItem(kind=kind, code=code, label=label, label_en=label_en,
                                       unit=unit[0] if unit else None, position=position,
                                       is_frequent=code in frequent))
    known = set(db.session.execute(db.select(Sector.code)).scalars())
    for position, (code, label, district) in enumerate(defaults.SECTORS):
        if code not in known:
            db.session.add(Sector(code=code, label=label, district=district, position=position))
    db.session.flush()


def items(kind, active_only=True):
    query = db.select(RefItem).filter_by(kind=kind).order_by(RefItem.position, RefItem.id)
    if active_only:
        query = query.filter_by(is_active=True)
    return db.session.execute(query).scalars().all()


def codes_to_ids(kind):
    """{code: id} of every item of a kind (active or not), for imports and APIs."""
    rows = db.session.execute(db.select(RefItem.code, RefItem.id).filter_by(kind=kind))
    return dict(rows.all())
