"""Peak memory of a command-line import (``import-contacts``: the file read as a stream, in
bounded batches) for a CSV file of ``rows`` rows, on a fresh SQLite file or an empty PostgreSQL
database.

    python -m bench.import_memory --rows 1000000 [--postgresql]

The import runs in a child process; ``peak_rss_mb`` is its peak resident memory (getrusage),
``base_rss_mb`` the same process before the import (interpreter, app, modules), ``import_mb`` the
difference: what the import itself needs. Target: <= 200 MB whatever the file size.
"""

import argparse
import csv
import json
import os
import subprocess  # nosec B404 - runs our own import in a child process
import sys
import tempfile
import time

from sqlalchemy import create_engine, text

from bench import dashboard
from bench.import_speed import synthetic_rows

TARGET_MB = 200
CHUNK = 50_000

CHILD = """
import json, resource, sys, time
from flask_migrate import upgrade
from outreach import create_app
from outreach.extensions import db
from outreach.imports import reading, services
from outreach.models import Organisation
from outreach.seed import seed_demo
app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "b", "PSEUDONYM_KEY": "b"})
with app.app_context():
    upgrade(); seed_demo(); db.session.commit()
    org = db.session.execute(db.select(Organisation).filter_by(code="aurore")).scalar_one()
    user = services.default_importer(org)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with app.test_request_context():
        report = services.import_contacts(reading.file_rows(sys.argv[2]), org, user)
    db.session.commit()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"created": report.created, "errors": len(report.errors),
                  "seconds": round(elapsed, 1), "base_rss_mb": round(base / 1024),
                  "peak_rss_mb": round(peak / 1024)}))
"""


def write_csv(path, rows):
    """A template CSV of ``rows`` rows, written chunk by chunk (never the whole file in memory)."""
    columns = None
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        for seed, at in enumerate(range(0, rows, CHUNK), start=1):
            chunk = synthetic_rows(min(CHUNK, rows - at), seed=seed)
            if columns is None:
                columns = list(chunk[0][1])
                writer.writerow(columns)
            writer.writerows([cells[c] for c in columns] for _line, cells in chunk)
    return os.path.getsize(path)


def run(rows=200_000, postgresql=False):
    tmp = tempfile.mkdtemp(prefix="outreach-import-memory-")
    path = os.path.join(tmp, "contacts.csv")
    size = write_csv(path, rows)
    name, admin = None, None
    if postgresql:
        name = f"outreach_import_memory_{os.getpid()}"
        admin = create_engine(dashboard.POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp}/import.db"
    try:
        env = dict(os.environ, OUTREACH_INSTANCE_PATH=tmp)
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, url, path],
            cwd=dashboard.ROOT,
            env=env,  # nosec B603
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return {
        "backend": "postgresql" if postgresql else "sqlite",
        "rows": rows,
        "file_mb": round(size / 2**20),
        **result,
        "import_mb": result["peak_rss_mb"] - result["base_rss_mb"],
        "target_mb": TARGET_MB,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.postgresql)))


if __name__ == "__main__":
    main()
