"""Backups: SQLite online backup API; PostgreSQL through pg_dump / pg_restore."""
import os
import shutil
import sqlite3
import subprocess  # nosec B404 - fixed argv, no shell

from ..extensions import db


class BackupError(RuntimeError):
    pass


def backup_database(path):
    """Write a consistent copy of the live database to ``path``."""
    if db.engine.dialect.name == "sqlite":
        _sqlite_copy(_live_sqlite(), sqlite3.connect(path), close="dst")
    else:
        _pg("pg_dump", "--format=custom", "--no-owner", "--file", path)


def restore_database(path):
    """Replace the live database's contents with the backup at ``path``."""
    if not os.path.isfile(path):
        raise BackupError(f"no backup file at {path}")
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        _sqlite_copy(sqlite3.connect(path), _live_sqlite(), close="src")
    else:
        db.engine.dispose()
        _pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", path)
    db.engine.dispose()


def _live_sqlite():
    raw = db.engine.raw_connection()
    return raw, raw.driver_connection


def _sqlite_copy(src, dst, close):
    """``src``/``dst``: a sqlite3 connection, or (pooled raw connection, sqlite3 connection)."""
    pooled = src if isinstance(src, tuple) else dst
    source = src[1] if isinstance(src, tuple) else src
    target = dst[1] if isinstance(dst, tuple) else dst
    try:
        source.backup(target)
    finally:
        (target if close == "dst" else source).close()
        pooled[0].close()


def _pg(tool, *args):
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} not found: install postgresql-client")
    url = db.engine.url
    env = dict(os.environ, PGPASSWORD=url.password or "")
    argv = [exe, "--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database, *args]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[:500]}")
