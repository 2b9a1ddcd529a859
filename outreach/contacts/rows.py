"""A new contact written with Core INSERTs instead of the ORM's unit of work (the saves of the API
and of the logging form).

``services`` validates and builds the contact as it always did (one home for the rules: the same
objects as ``record_contact``), but the graph never joins the session: this module writes it, one
INSERT per table (executemany for the child rows: products, needs, material, orientations,
referrals and their steps), then the roll-up mark beside it (``rollups.mark``, what the after_flush
listener writes for a flush). The rows are those the ORM writes (tests/test_contact_rows.py saves
the same contacts both ways and compares every table):

- a column left None is left out of the INSERT, as the ORM does, so its default fires;
- a many-to-one relation gives its foreign key (``sector`` -> ``sector_id``), a one-to-many one
  gives its children theirs, and generated keys come back with RETURNING, set on the objects (the
  answer names the orientations by id);
- the person (``pseudonyms.touch_person``) and audit events are session objects as before: the
  commit flushes them.

The flush was a third of a save's CPU (state bookkeeping, dependency sort, history); what each class
writes is read from its mapper once per process (``_plan``)."""
from functools import cache
from itertools import groupby

from sqlalchemy import insert, inspect
from sqlalchemy.orm import MANYTOMANY, MANYTOONE, ONETOMANY

from ..extensions import db


class _Plan:
    """What a mapped class writes: its columns, its parents' keys, its children and its links."""

    def __init__(self, cls):
        mapper = inspect(cls)
        self.table = mapper.local_table
        self.columns = [(prop.key, prop.columns[0].key) for prop in mapper.column_attrs]
        attr = {prop.columns[0]: prop.key for prop in mapper.column_attrs}
        # the key the database numbers (orientations, referral steps): read back with RETURNING
        generated = self.table.autoincrement_column
        self.generated = None if generated is None else (generated, attr[generated])
        self.parents, self.children, self.links = [], [], []
        for rel in mapper.relationships:
            if rel.viewonly:
                continue
            if rel.direction is MANYTOONE:
                self.parents.append((rel.key, [(attr[local], inspect(rel.mapper.class_)
                                                .get_property_by_column(remote).key)
                                               for local, remote in rel.local_remote_pairs]))
            elif rel.direction is ONETOMANY and "save-update" in rel.cascade:
                self.children.append(rel.key)
            elif rel.direction is MANYTOMANY:
                own = [(local.key, attr[remote]) for remote, local in rel.synchronize_pairs]
                other = [(local.key, inspect(rel.mapper.class_).get_property_by_column(remote).key)
                         for remote, local in rel.secondary_synchronize_pairs]
                self.links.append((rel.key, rel.secondary, own, other))


@cache
def _plan(cls):
    return _Plan(cls)


def _row(obj, plan):
    """The INSERT values of ``obj``: its parents' keys copied onto it, then each column not None."""
    values = obj.__dict__
    for key, pairs in plan.parents:
        parent = values.get(key)
        if parent is not None:
            for local, remote in pairs:
                setattr(obj, local, getattr(parent, remote))
    return {column: values[key] for key, column in plan.columns if values.get(key) is not None}


def _insert(conn, objects):
    """INSERT ``objects`` (one class), in order; consecutive rows with the same columns share one
    statement, as in the ORM's flush. Generated keys are set back on the objects."""
    plan = _plan(type(objects[0]))
    rows = [(obj, _row(obj, plan)) for obj in objects]
    for _columns, group in groupby(rows, key=lambda pair: tuple(pair[1])):
        group = list(group)
        statement, values = insert(plan.table), [row for _obj, row in group]
        if plan.generated is None or plan.generated[0].key in values[0]:
            conn.execute(statement, values)
            continue
        column, key = plan.generated
        result = conn.execute(statement.returning(column, sort_by_parameter_order=True), values)
        for (obj, _values), value in zip(group, result.scalars().all()):
            setattr(obj, key, value)
    for obj in objects:
        _write_children(conn, obj, plan)


def _write_children(conn, obj, plan):
    values = obj.__dict__
    for key, secondary, own, other in plan.links:
        targets = values.get(key) or []
        if targets:
            conn.execute(insert(secondary), [
                {**{column: getattr(obj, attr) for column, attr in own},
                 **{column: getattr(target, attr) for column, attr in other}}
                for target in targets])
    for key in plan.children:
        children = values.get(key) or []
        if children:
            _insert(conn, list(children))  # their back-reference to ``obj`` gives their key


def _graph(obj, plan=None):
    """``obj`` and every object below it (the children collections)."""
    plan = plan or _plan(type(obj))
    found = [obj]
    for key in plan.children:
        for child in obj.__dict__.get(key) or []:
            found += _graph(child)
    return found


def insert_graph(obj):
    """Write ``obj`` (a new contact built by ``services``, outside the session) and what it holds,
    then the roll-up marks of those rows, in the session's transaction (no flush: an audit event or
    a person's new dates still pending are flushed at the commit)."""
    from ..indicators import rollups  # here: the indicators package imports the contacts' views
    conn = db.session.connection()
    _insert(conn, [obj])
    rollups.mark(db.session, _graph(obj))
    return obj
