"""A database-level guard for the audit log: UPDATE and DELETE on audit_events fail.

The ORM guard (outreach.audit) stops the application; this trigger also stops raw SQL
from anyone using the application's database account. TRUNCATE stays possible for the
operator (and the test suite)."""
from sqlalchemy import text

from ..extensions import db

_SQLITE = [
    ("CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
    ("CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"),
]
_POSTGRES = [
    ("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"),
    ("CREATE OR REPLACE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"),
]
_REMOVE = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                   "DROP FUNCTION IF EXISTS audit_events_append_only()"],
}


def install_audit_guard(remove=False):
    """Create (or drop) the triggers; idempotent. Does not commit."""
    dialect = db.engine.dialect.name
    statements = _REMOVE[dialect] if remove else (_SQLITE if dialect == "sqlite" else _POSTGRES)
    for statement in statements:
        db.session.execute(text(statement))
