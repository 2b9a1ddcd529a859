"""An import reads its file in bounded batches (checked, then written, in one transaction): the
database ends up exactly as when the file is read in one batch (identical rows ranked across
batches, a person's first contact in a later batch, a shift whose contacts span batches), a bad row
in the last batch leaves nothing written, and the command line streams a CSV file from disk."""

import csv

import pytest
from sqlalchemy import select, text
from test_imports_bulk import _import, synthetic_rows

from outreach.extensions import db
from outreach.imports import services
from outreach.models import Contact

IMPORTED = (
    "contact_products",
    "contact_needs",
    "contact_materials",
    "orientations",
    "referrals",
    "contacts",
    "persons",
    "shifts",
)


def _rows():
    rows = synthetic_rows(400, seed=11)
    known = next(cells for _line, cells in rows[:30] if cells["digest"])
    late = dict(
        known, date="2023-12-31", time="19:00"
    )  # a person of the first batch, met before all its rows
    twins = [dict(rows[i][1]) for i in (3, 7, 7, 120)]  # identical to rows of the first batch
    same_shift = dict(
        rows[0][1], time="23:59", kind="anonymous", digest="", people_count="2", programme=""
    )
    extra = [late, *twins, same_shift]
    return rows + [(len(rows) + 2 + i, cells) for i, cells in enumerate(extra)]


def _state():
    """What an import wrote, without the ids a sequence gives (persons are named by their code)."""

    def all_rows(sql):
        return sorted(tuple(str(v) for v in row) for row in db.session.execute(text(sql)))

    return {
        "contacts": all_rows(
            "SELECT c.id, c.shift_id, c.occurred_at, c.kind, c.people_count, c.is_first_contact,"
            " p.code FROM contacts c LEFT JOIN persons p ON p.id = c.person_id"
        ),
        "persons": all_rows(
            "SELECT code, first_seen_on, last_seen_on, last_seen_team_id FROM persons"
        ),
        "shifts": all_rows("SELECT id, started_at, ended_at, shift_on FROM shifts"),
        "referrals": all_rows(
            "SELECT r.id, r.contact_id, r.person_first_seen_on, p.code FROM referrals r"
            " JOIN persons p ON p.id = r.person_id"
        ),
        "materials": all_rows("SELECT contact_id, material_id, quantity FROM contact_materials"),
        "products": all_rows("SELECT contact_id, product_id FROM contact_products"),
    }


def _forget_import():
    for table in IMPORTED:
        db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()


def test_a_file_in_batches_is_written_as_in_one(app, monkeypatch):
    rows = _rows()
    with app.test_request_context():
        assert _import(rows).created == len(rows)
        whole = _state()
        _forget_import()
        monkeypatch.setattr(services, "BATCH_ROWS", 37)
        report = _import(rows)
        assert (report.total, report.created, report.already, report.errors) == (
            len(rows),
            len(rows),
            0,
            [],
        )
        assert _state() == whole
        assert _import(rows).created == 0  # imported again: nothing new, batch by batch
        assert _state() == whole


def test_a_bad_row_in_the_last_batch_leaves_nothing_written(app, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 50)
    rows = _rows()
    rows[-1] = (rows[-1][0], dict(rows[-1][1], team="equipe_inconnue"))
    with app.test_request_context():
        report = _import(rows)
        assert [(e.line, e.column) for e in report.errors] == [(rows[-1][0], "team")]
        assert report.created == 0
        assert db.session.execute(select(db.func.count()).select_from(Contact)).scalar() == 0


@pytest.mark.parametrize("delimiter", [";", ","])
def test_the_command_line_streams_a_csv_file(app, monkeypatch, tmp_path, delimiter):
    monkeypatch.setattr(services, "BATCH_ROWS", 64)
    rows = _rows()
    path = tmp_path / "contacts.csv"
    columns = list(rows[0][1])
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(columns)
        writer.writerows([cells.get(c, "") for c in columns] for _line, cells in rows)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-contacts", str(path), "--organisation", "aurore"])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} created, 0 already present" in result.output
    with app.app_context():
        assert db.session.execute(select(db.func.count()).select_from(Contact)).scalar() == len(
            rows
        )
    again = runner.invoke(args=["import-contacts", str(path), "--organisation", "aurore"])
    assert f"0 created, {len(rows)} already present" in again.output
