"""Migrations are frozen since 0.1.0: a database of 0.1.0 (revision 0001) filled with demo data
upgrades to the head with nothing lost, on SQLite and PostgreSQL.

The rows come from tests/data/demo_0001.json (how it was made: tests/data/make_demo_0001.py),
written through tables reflected from the database at 0001, never through today's models, which
follow the head.
"""
import datetime as dt
import hashlib
import json
import os
from collections import Counter

import pytest
from alembic.script import ScriptDirectory
from conftest import BACKENDS, _make_app, _postgres_database, do_login
from flask_migrate import upgrade
from sqlalchemy import JSON, MetaData, create_engine, select, text

from outreach import ROOT
from outreach.seed import DEMO_USERS

VERSIONS = os.path.join(ROOT, "migrations", "versions")
FIXTURE = os.path.join(os.path.dirname(__file__), "data", "demo_0001.json")
# Columns a revision removed on purpose, with where their values went: {("table", "column"): "0005:
# ..."}. Any other column missing at the head counts as lost data.
DROPPED_ON_PURPOSE = {
    ("users", "failed_logins"): "0003: login delays counted per account and address in "
                                "login_throttles",
    ("users", "locked_at"): "0003: no more lockouts (login delays instead); an admin lifts a delay",
    ("plan_actions", "status"): "0013: an action's status lives in its dated history "
                                "(action_status_changes)",
}
# as released in 0.1.0
SHA256_0001 = "008bee99b0363d6c17e7de7998831918da6930bb0a496536f943875f7f23a4f5"


def _fixture():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


# --- the fixture in and out -------------------------------------------------------------

def _typed(value, column_type):
    """A fixture value (JSON) as the reflected column expects it."""
    if value is None or isinstance(column_type, JSON):
        return value
    python_type = column_type.python_type
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if python_type is dt.date:
        return dt.date.fromisoformat(value)
    if python_type is bool:
        return bool(value)
    return value


def _plain(value):
    """A stored value in the fixture's terms, hashable (compared as multisets of rows)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def load_fixture(engine, fixture):
    """Insert every fixture row through tables reflected from ``engine``; reset PostgreSQL
    sequences."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            data = fixture["tables"].get(table.name)
            if not data or not data["rows"]:
                continue
            types = [table.c[name].type for name in data["columns"]]
            conn.execute(table.insert(),
                         [{name: _typed(v, t) for name, v, t in zip(data["columns"], row, types)}
                          for row in data["rows"]])
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, meta)


def _reset_sequences(conn, meta):
    """Rows came with their ids: move each serial sequence past them, as a restored dump would."""
    for table in meta.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                conn.execute(text(f'SELECT setval(:s, COALESCE(MAX("{column.name}"), 1), '
                                  f'MAX("{column.name}") '
                                  f'IS NOT NULL) FROM "{table.name}"'), {"s": sequence})


def missing_rows(engine, fixture):
    """{table: [fixture rows, or columns, no longer found]}; a row may have gained columns."""
    meta = MetaData()
    meta.reflect(engine)
    lost = {}
    with engine.connect() as conn:
        for name, data in fixture["tables"].items():
            if name not in meta.tables:
                lost[name] = [f"table dropped ({len(data['rows'])} rows)"] if data["rows"] else []
                continue
            table = meta.tables[name]
            dropped = [c for c in data["columns"] if c not in table.c
                       and (name, c) not in DROPPED_ON_PURPOSE]
            if dropped and data["rows"]:
                lost[name] = [f"column {c} dropped" for c in dropped]
                continue
            kept = [i for i, column in enumerate(data["columns"]) if column in table.c]
            before = Counter(tuple(_plain(row[i]) for i in kept) for row in data["rows"])
            columns = [table.c[data["columns"][i]] for i in kept]
            after = Counter(tuple(_plain(v) for v in row) for row in conn.execute(select(*columns)))
            gone = before - after
            if gone:
                lost[name] = list(gone.elements())[:3]
    return {name: rows for name, rows in lost.items() if rows}


# --- a 0.1.0 database, upgraded -----------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def upgraded(request, tmp_path_factory):
    """(url, fixture): a database created at 0001, filled with the fixture, then upgraded to the
    head."""
    tmpdir = str(tmp_path_factory.mktemp(f"upgrade-{request.param}"))
    if request.param == "sqlite":
        url, drop = "sqlite:///" + os.path.join(tmpdir, "0001.db"), (lambda: None)
    else:
        url, drop = _postgres_database()
    fixture = _fixture()
    app = _make_app(url, tmpdir)
    with app.app_context():
        upgrade(revision=fixture["revision"])
    engine = create_engine(url)
    load_fixture(engine, fixture)
    with app.app_context():
        upgrade(revision="heads")
    yield url, fixture, engine
    engine.dispose()
    drop()


@pytest.mark.slow
def test_upgrade_from_0001_keeps_every_row_and_value(upgraded):
    _url, fixture, engine = upgraded
    with engine.connect() as conn:
        heads = set(ScriptDirectory(os.path.join(ROOT, "migrations")).get_heads())
        assert set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == heads
    assert sum(len(t["rows"]) for t in fixture["tables"].values()) > 3000
    assert missing_rows(engine, fixture) == {}


@pytest.mark.slow
def test_upgrade_from_0001_keeps_demo_logins_and_a_shift_left_open(upgraded, tmp_path):
    url, fixture, _engine = upgraded
    app = _make_app(url, str(tmp_path))
    client = app.test_client()
    released = {row[fixture["tables"]["users"]["columns"].index("email")]
                for row in fixture["tables"]["users"]["rows"]}
    # the demo logins 0.1.0 had
    for email in sorted(released & {email for email, *_ in DEMO_USERS}):
        do_login(client, email)
        assert client.get("/", follow_redirects=True).status_code == 200, email
        client.post("/deconnexion")
    # an integrator's token minted on 0.1.0 still writes into the shift a worker left open during
    # the upgrade
    open_shift = _open_shift(fixture, fixture["api_token"]["email"])
    headers = {"Authorization": f"Bearer {fixture['api_token']['token']}"}
    body = {"id": "7e0c6a52-5a55-4f3b-9a4e-2f1f0d6c0a11", "shift_id": open_shift["id"],
            "occurred_at": "2026-11-29T20:00:00Z", "sector": "stalingrad", "kind": "anonymous",
            "people_count": 2, "sex": "f", "age_band": "26_35"}
    response = client.post("/api/v1/encounters", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(f"/api/v1/encounters/{body['id']}", headers=headers).status_code == 200
    # the manager's figures read the upgraded roll-ups and their backlog of marks
    do_login(client, "manager@plan.demo")
    assert client.get("/indicateurs?from=2022-01&to=2026-11").status_code == 200


def test_upgrade_keeps_each_action_status_readable_from_its_history(upgraded):
    """0013 drops plan_actions.status: every action not 'planned' then has one dated status row
    saying the same."""
    _url, fixture, engine = upgraded
    old = {a["id"]: a["status"] for a in _rows(fixture, "plan_actions")}
    words = {"in_progress": "started", "delayed": "started", "done": "done",
             "abandoned": "abandoned"}
    with engine.connect() as conn:
        now = dict(conn.execute(text("SELECT action_id, status FROM action_status_changes")).all())
    assert old and now == {i: words[s] for i, s in old.items() if s != "planned"}


def _open_shift(fixture, email):
    users = _rows(fixture, "users")
    user_id = next(u["id"] for u in users if u["email"] == email)
    return next(s for s in _rows(fixture, "shifts") if s["opened_by_id"] == user_id
                and s["status"] == "open")


def _rows(fixture, name):
    table = fixture["tables"][name]
    return [dict(zip(table["columns"], row)) for row in table["rows"]]


# --- the rules that keep it so ------------------------------------------------------------

def test_revision_0001_is_frozen():
    with open(os.path.join(VERSIONS, "0001_initial.py"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == SHA256_0001, (
            "0001 shipped in 0.1.0 and is frozen: change the schema in a new revision (make "
            "migration m=...)")


def test_every_revision_file_is_named_by_its_four_digit_id():
    script = ScriptDirectory(os.path.join(ROOT, "migrations"))
    for revision in script.walk_revisions():
        name = os.path.basename(revision.path)
        assert len(revision.revision) == 4 and revision.revision.isdigit(), name
        assert name.startswith(revision.revision + "_"), name
