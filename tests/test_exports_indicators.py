"""Dashboard exports: XLSX and CSV hold the dashboard's values with the same suppression."""
import csv
import io
import json
import os

import sqlite_utils
from export_helpers import seed_contacts
from openpyxl import load_workbook
from sqlalchemy import select

from outreach.exports.tables import cell
from outreach.extensions import db
from outreach.indicators import services as ind
from outreach.indicators.suppression import Hidden
from outreach.models import AuditEvent, User


def _period_args(day):
    month = day.strftime("%Y-%m")
    return {"period": "custom", "from": month, "to": month}


def _expected(app, email, args):
    """{indicator code: exported cell} computed the way the dashboard page computes it."""
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one()
        period, filters = ind.parse_period(args), ind.base_filters(args, user)
        _plan, actions = ind.dashboard(period, filters, user)
        return {r["indicator"].code: cell(r["value"]) for b in actions for r in b["rows"]}, actions


def _in_xlsx(expected, actions):
    """What the XLSX holds for each value: withheld cells empty, percentages as fractions."""
    units = {r["indicator"].code: r["indicator"].unit for b in actions for r in b["rows"]}
    return _rounded(
        {code: None if v == "< 5" else v / 100 if units[code] == "%" and v is not None else v
         for code, v in expected.items()})


def _rounded(values):
    rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in rounded.items()}


def test_xlsx_has_one_sheet_per_action_definitions_and_the_dashboard_values(app, client, login):
    day = seed_contacts(app)
    login("manager@plan.demo")
    args = _period_args(day)
    response = client.get("/export/indicateurs.xlsx", query_string=args)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    with app.app_context():
        expected, actions = _expected(app, "manager@plan.demo", args)
    assert len(book.sheetnames) == len(actions) + 1 and book.sheetnames[0] == "Définitions"
    found = {}
    for sheet in book.worksheets[1:]:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:4] == ("Code", "Indicateur", "Unité", "Valeur")
        found.update({r[0]: r[3] for r in rows[1:]})
    assert _rounded(found) == _in_xlsx(expected, actions)
    small = {**args, "organisation": "gaia"}  # by code, as in the API
    book = load_workbook(
        io.BytesIO(client.get("/export/indicateurs.xlsx", query_string=small).data))
    with app.app_context():
        expected, _actions = _expected(app, "manager@plan.demo", small)
    found = {r[0]: r for s in book.worksheets[1:] for r in s.iter_rows(min_row=2, values_only=True)}
    assert _rounded({code: r[3] for code, r in found.items()}) == _in_xlsx(expected, _actions)
    # gaia's 3 contacts are hidden, as on screen
    assert expected["contacts"] == "< 5" and found["contacts"][3] is None
    assert "Valeur : < 5" in found["contacts"][-1]  # and flagged on their row
    definitions = [r for r in book["Définitions"].iter_rows(values_only=True)]
    assert definitions[0][0] == "Période"
    assert any(r[0] == "Secret statistique" for r in definitions)
    assert {r[0] for r in definitions} >= set(expected)


def test_csv_uses_bom_and_semicolons_with_the_dashboard_values(app, client, login):
    day = seed_contacts(app)
    login("manager@plan.demo")
    args = _period_args(day)
    response = client.get("/export/indicateurs.csv", query_string=args)
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:5] == ["Tableau", "Code", "Indicateur", "Unité", "Valeur"]
    with app.app_context():
        expected, _actions = _expected(app, "manager@plan.demo", args)
    as_text = {k: "" if v is None else str(v).replace(".", ",") for k, v in expected.items()}
    assert {r[1]: r[4] for r in rows[1:]} == as_text
    comma = client.get("/export/indicateurs.csv",
                       query_string={**args, "sep": ","}).data.decode("utf-8")
    assert next(csv.reader(io.StringIO(comma[1:])))[:2] == ["Tableau", "Code"]


def test_a_supervisor_export_is_their_own_organisation_unsuppressed(app, client, login):
    day = seed_contacts(app)
    login("supervisor@aurore.demo")
    # their own (another's matches nothing, unknown: 400)
    args = {**_period_args(day), "organisation": "aurore"}
    response = client.get("/export/indicateurs.xlsx", query_string=args)
    book = load_workbook(io.BytesIO(response.data))
    values = [r[3] for s in book.worksheets[1:] for r in s.iter_rows(min_row=2, values_only=True)]
    with app.app_context():
        expected, actions = _expected(app, "supervisor@aurore.demo", args)
    values = _rounded(dict(enumerate(values))).values()
    assert sorted(map(str, values)) == sorted(map(str, _in_xlsx(expected, actions).values()))
    assert "< 5" not in values


def test_drill_down_and_funnel_exports_match_the_pages(app, client, login):
    day = seed_contacts(app)
    login("manager@plan.demo")
    args = {**_period_args(day), "by": "organisation"}
    with app.test_request_context():
        indicator = db.session.execute(
            select(ind.Indicator).filter_by(numerator="distinct_persons")).scalars().first()
        manager = db.session.execute(select(User).filter_by(email="manager@plan.demo")).scalar_one()
        rows, total = ind.breakdown(indicator, ind.parse_period(args), {}, manager, "organisation")
        code = indicator.code
    response = client.get(f"/export/indicateurs/{code}.csv", query_string=args)
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8")[1:]), delimiter=";"))
    assert lines[1:] == [[label, "" if v is None else str(cell(v))] for label, v in rows] + \
        [["Total de la période", str(cell(total))]]
    assert any(isinstance(v, Hidden) for _label, v in rows)
    funnel = client.get("/export/parcours.xlsx", query_string=_period_args(day))
    assert load_workbook(io.BytesIO(funnel.data)).sheetnames == ["Définitions", "Parcours",
                                                                 "Par programme"]


def test_workers_are_refused(client, login):
    login("worker@aurore.demo")
    assert client.get("/export/indicateurs.csv").status_code == 403
    assert client.get("/export/parcours.xlsx").status_code == 403


def test_every_export_is_audited(app, client, login):
    day = seed_contacts(app)
    login("manager@plan.demo")
    client.get("/export/indicateurs.csv", query_string=_period_args(day))
    client.get("/export/parcours.csv", query_string=_period_args(day))
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent).filter_by(action="export.indicators")).scalars().all()
        assert [e.details["view"] for e in events] == ["dashboard", "funnel"]


def test_bad_period_is_a_400_not_a_500(client, login):
    login("manager@plan.demo")
    assert client.get("/export/indicateurs.xlsx?period=custom&from=nope").status_code == 400


PERSON_WORDS = ("person", "code", "digest", "contact_id", "shift")


def test_sqlite_snapshot_holds_suppressed_aggregates_only(app, tmp_path):
    day = seed_contacts(app)
    path = str(tmp_path / "open.db")
    month = day.strftime("%Y-%m")
    result = app.test_cli_runner().invoke(
        args=["export-sqlite", path, "--from", month, "--to", month])
    assert result.exit_code == 0, result.output
    database = sqlite_utils.Database(path)
    assert set(database.table_names()) == {"plan_indicators", "indicator_by_month",
                                           "indicator_by_organisation",
                                           "indicator_by_sector", "funnel_by_programme",
                                           "_descriptions",
                                           "plan_action_status", "plan_budget",
                                           "plan_places_by_month", "plan_stays", "plan_coverage"}
    for table in database.tables:
        if table.name in ("plan_indicators", "_descriptions"):
            continue
        assert not [c for c in table.columns_dict
                    if any(w in c for w in PERSON_WORDS if w != "code")]
    by_org = list(database["indicator_by_organisation"].rows)
    hidden = [r for r in by_org if r["shown"] in ("< 5", "s")]
    assert hidden and all(r["value"] is None for r in hidden)
    gaia = [r for r in by_org if r["organisation"] == "Gaïa" and r["indicator"] in
            {i["code"]
             for i in database["plan_indicators"].rows_where("name like ?", ["%personnes%"])}]
    assert gaia and all(r["value"] is None or r["value"] == 0 or r["value"] >= 5 for r in gaia)
    described = {(r["table_name"], r["column_name"]) for r in database["_descriptions"].rows}
    assert ("indicator_by_month", "shown") in described
    metadata = json.loads((tmp_path / "metadata.json").read_text())
    assert "indicator_by_month" in metadata["databases"]["open"]["tables"]
    with app.app_context():
        assert db.session.execute(
            select(AuditEvent).filter_by(action="export.snapshot")).scalar_one()
    assert os.path.getsize(path) > 0


def test_unknown_or_malformed_indicator_code_is_a_404(client, login):
    login("manager@plan.demo")
    assert client.get("/export/indicateurs/nope.csv").status_code == 404
    assert client.get("/export/indicateurs/a%00b.csv").status_code == 404
    assert client.get("/export/indicateurs.pdf").status_code == 404
