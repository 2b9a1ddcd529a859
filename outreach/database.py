"""Database details that several paths share: id sequences after bulk writes, constraint errors
in words."""
import re

from flask_babel import gettext as _
from sqlalchemy import Integer, func, select, text

from .extensions import db

_SQLITE_CONSTRAINT = re.compile(r"constraint failed: (.+)$", re.MULTILINE)


def reset_sequences(conn=None, tables=None):
    """After rows were inserted with explicit integer ids (bulk seeds, synthetic history), move
    each PostgreSQL id sequence past the largest id, so that the next ordinary insert does not
    collide. SQLite needs nothing (its next id is always past the largest). ``tables``: names,
    default every table of the schema."""
    conn = conn if conn is not None else db.session.connection()
    if conn.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if tables is not None and table.name not in tables:
            continue
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
            continue
        column = pk[0]
        sequence = conn.execute(
            select(func.pg_get_serial_sequence(table.name, column.name))).scalar()
        if sequence is None:
            continue
        largest = conn.execute(select(func.max(column))).scalar()
        conn.execute(text("SELECT setval(CAST(:seq AS regclass), :value, :called)"),
                     {"seq": sequence, "value": largest or 1, "called": largest is not None})


def constraint_of(error):
    """The name of the constraint an ``IntegrityError`` broke (PostgreSQL's name, SQLite's
    columns), or None."""
    original = getattr(error, "orig", error)
    name = getattr(getattr(original, "diag", None), "constraint_name", None)
    if name:
        return name
    found = _SQLITE_CONSTRAINT.search(str(original))
    return found.group(1).strip() if found else None


def is_unique_violation(error):
    """True when the write lost a race for a unique key (retryable), not when it broke a rule
    (CHECK, NOT NULL)."""
    original = getattr(error, "orig", error)
    sqlstate = getattr(original, "sqlstate", None)
    return sqlstate == "23505" if sqlstate else "UNIQUE constraint failed" in str(original)


def integrity_message(error):
    """What to tell the user when the database refused a write for another reason than a replayed
    id."""
    return _("Enregistrement refusé par la base de données (contrainte %(name)s) : rien n'a été "
             "enregistré ; réessayez, et signalez-le à l'administration si cela se reproduit.",
             name=constraint_of(error) or "?")
