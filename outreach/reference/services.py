"""Reference lists: install the defaults idempotently, read active items by kind."""

from ..extensions import db
from ..models import RefItem, Sector
from . import cache, defaults


def ensure_defaults():
    """Insert the default lists and sectors that are missing; never overwrite an admin's edit."""
    existing = {(k, c) for k, c in db.session.execute(db.select(RefItem.kind, RefItem.code))}
    for kind, entries in defaults.LISTS.items():
        frequent = defaults.FREQUENT.get(kind, set())
        for position, entry in enumerate(entries):
            code, label, label_en, *unit = entry
            if (kind, code) not in existing:
                db.session.add(
                    RefItem(
                        kind=kind,
                        code=code,
                        label=label,
                        label_en=label_en,
                        unit=unit[0] if unit else None,
                        position=position,
                        is_frequent=code in frequent,
                    )
                )
    known = set(db.session.execute(db.select(Sector.code)).scalars())
    for position, (code, label, district) in enumerate(defaults.SECTORS):
        if code not in known:
            db.session.add(Sector(code=code, label=label, district=district, position=position))
    db.session.flush()


def items(kind, active_only=True):
    """The items of a list in display order (from this process's copy: no SQL while no list
    changed)."""
    rows = cache.current().by_kind.get(kind, [])
    return cache.attach([i for i in rows if i.is_active or not active_only])


def by_ids(kind, ids):
    """{id: item} of the given ids that belong to ``kind`` (unknown ones are left out)."""
    lists = cache.current()
    found = [lists.items[i] for i in set(ids) if i in lists.items and lists.items[i].kind == kind]
    return {item.id: item for item in cache.attach(found)}


def code_of(item_id):
    """The code of a list item by id, from this process's copy (None for an unknown id): an answer
    that names an item by code reads no list."""
    found = cache.current().items.get(item_id)
    return found.code if found is not None else None


def codes_to_ids(kind):
    """{code: id} of every item of a kind (active or not), for imports and APIs; ``"sector"``
    for sectors."""
    lists = cache.current()
    return dict(lists.sector_codes if kind == "sector" else lists.codes.get(kind, {}))


def sectors(active_only=True):
    return cache.attach([s for s in cache.current().sectors if s.is_active or not active_only])


def sector(sector_id):
    """The sector of that id, or None."""
    found = cache.current().sector_ids.get(sector_id)
    return cache.attach([found])[0] if found is not None else None
