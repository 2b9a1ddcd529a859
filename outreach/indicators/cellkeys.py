"""Cell keys: the records a published cell counts, as one number (see ``suppression``).

An *atom* is one organisation's non-empty roll-up in one month: (organisation, roll-up measure,
item, month). Every count the dashboards publish is a sum of atoms' values (sums) or counts the
persons of the atoms' months (persons), so a cell's key is the sum, modulo 2^64, of the keys of the
non-empty atoms it covers. The same records give the same atoms whatever the query (a period
stretched over empty months, a team filter equal to its organisation, an item filter matching all
there is), hence the same key and the same published value; another cell has another key,
unpredictable without the secret of ``suppression``.

One grouped read of the roll-ups per scope (organisation, team, sector, provisional) and window, as
the evaluator reads values; keys are then summed like the values, per month.
"""
import hashlib
from functools import lru_cache

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Organisation, RollupMonthly, RollupOrgMonthly
from . import measures as m

MASK = 2 ** 64 - 1
PERSONS_ROLLUP = "with_code"  # an (organisation, month) with a coded contact is one with persons


def _hash(text, size=8):
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")


@lru_cache(maxsize=4096)
def organisation_key(organisation_id):
    return _hash(f"organisation|{organisation_id}", 4)


@lru_cache(maxsize=200_000)
def slot_key(rollup, item_id, month):
    return _hash(f"{rollup}|{item_id}|{month.isoformat()}") | 1


def atom_key(organisation_id, rollup, item_id, month):
    """Key of one atom: an organisation's key times its slot's (measure, item, month) key, modulo
    2^64, so that the keys of a slot's organisations can be summed in SQL and multiplied once."""
    return organisation_key(organisation_id) * slot_key(rollup, item_id, month) & MASK


def days_key(days):
    """Key of a median's inputs: its sorted list of durations."""
    text = ",".join(map(str, sorted(days))).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


class CellKeys:
    """Keys of the cells of one dashboard (one window), read once per scope; ``rollups``: the
    roll-up measures the read needs (None: all), as the evaluator's."""

    def __init__(self, window, rollups=None):
        self.window = window
        self.rollups = None if rollups is None else frozenset(rollups)
        self._atoms, self._months, self._organisation_ids, self._loaded = {}, {}, None, {}

    def _organisations(self):
        """Ids of the organisations, read once per board (every scope's atoms weigh them)."""
        if self._organisation_ids is None:
            self._organisation_ids = db.session.execute(select(Organisation.id)).scalars().all()
        return self._organisation_ids

    def key(self, measure, filters, period):
        """Key of ``measure`` over ``filters`` and ``period`` (sums and persons)."""
        if measure.kind == "persons":
            period = m.person_window(measure, period)
            rollups, ids = (PERSONS_ROLLUP,), None
        else:
            rollups, ids = measure.rollups, m.item_ids(filters, measure.item_kind)
        by_month = self._by_month(filters, period, rollups, ids)
        return sum(key for month, key in by_month.items() if period[0] <= month <= period[1]) & MASK

    def _by_month(self, filters, period, rollups, ids):
        """{month: sum of the keys of the atoms of ``rollups`` (and items ``ids``)} in the scope
        (cached)."""
        atoms, scope = self._scope(filters, period, rollups)
        cache = (scope, tuple(rollups), tuple(ids) if ids is not None else None)
        if cache not in self._months:
            totals = {}
            for rollup in rollups:
                for item, months in atoms.get(rollup, {}).items():
                    if ids is None or item in ids:
                        for month, key in months.items():
                            totals[month] = totals.get(month, 0) + key
            self._months[cache] = totals
        return self._months[cache]

    def _scope(self, filters, period, rollups=()):
        inside = self.window and self.window[0] <= period[0] and period[1] <= self.window[1]
        window = self.window if inside else tuple(period)
        scope = (m.scope_key(filters), window)
        loaded = self._loaded.get(scope, frozenset())
        wanted = None if self.rollups is None else self.rollups | frozenset(rollups)
        if scope not in self._atoms or (loaded is not None and not frozenset(rollups) <= loaded):
            missing = wanted if scope not in self._atoms else frozenset(rollups) - loaded
            self._store(scope, read_atoms(filters, window, organisations=self._organisations(),
                                          rollups=missing).get(None, {}), missing)
        return self._atoms[scope], scope

    def _store(self, scope, atoms, rollups):
        self._atoms.setdefault(scope, {}).update(atoms)
        loaded = self._loaded.get(scope, frozenset())
        self._loaded[scope] = None if rollups is None or loaded is None else loaded | rollups

    def prefetch(self, filters, by, keys):
        """The atoms of every ``{by}_id`` in ``keys`` (the scopes of a drill-down) in one grouped
        read."""
        if not self.window or not keys:
            return
        grouped = read_atoms({k: v for k, v in filters.items() if k != f"{by}_id"}, self.window, by,
                             self._organisations(), self.rollups)
        for key in keys:
            scope = (m.scope_key({**filters, f"{by}_id": key}), self.window)
            if scope not in self._atoms:
                self._store(scope, grouped.get(key, {}), self.rollups)


def read_atoms(filters, window, by=None, organisations=None, rollups=None):
    """{group (None without ``by``): {roll-up measure: {item: {month: sum of atom keys over
    organisations}}}} of the scope's non-empty atoms (organisation keys summed in SQL: one row
    per slot, as many rows as the evaluator reads); ``by`` (team, sector, organisation) reads
    every group of a drill-down at once; ``rollups``: only those roll-up measures (None: all)."""
    by_sector = bool(filters.get("sector_id")) or by == "sector"
    t = RollupMonthly if by_sector or filters.get("team_id") or by == "team" else RollupOrgMonthly
    group = (getattr(t, f"{by}_id"),) if by and by != "organisation" else ()
    columns = (*group, t.organisation_id, t.measure, t.item_id, t.month)
    atoms = select(*columns).where(*m._scope(t, filters, by_sector), *m._months(t, window))
    if rollups is not None:
        atoms = atoms.where(t.measure.in_(sorted(rollups)))
    if t is RollupOrgMonthly and not filters.get("include_provisional"):
        atoms = atoms.where(t.value != 0).subquery()  # one validated row per atom
    else:
        atoms = atoms.group_by(*columns).having(func.sum(t.value) != 0).subquery()
    if organisations is None:
        organisations = db.session.execute(select(Organisation.id)).scalars().all()
    weight = case({o: organisation_key(o) for o in organisations}, value=atoms.c.organisation_id,
                  else_=0)
    keys = [atoms.c[c.name] for c in group] + ([atoms.c.organisation_id] if by == "organisation"
                                               else [])
    slots = select(*keys, atoms.c.measure, atoms.c.item_id, atoms.c.month, func.sum(weight)) \
        .group_by(*keys, atoms.c.measure, atoms.c.item_id, atoms.c.month)
    out = {}
    for *key, rollup, item_id, month, weights in db.session.connection().execute(slots):
        month = m._as_date(month)
        part = out.setdefault(key[0] if by else None, {})
        part.setdefault(rollup, {}).setdefault(item_id, {})[month] = (
            int(weights) * slot_key(rollup, item_id, month) & MASK)
    return out

