"""Every catalogue indicator says in words what it counts: which records, validated or
provisional data, and, for figures by month, in which time zone (issue 19 item 8, issue 14)."""
import io

import yaml
from openpyxl import load_workbook
from test_exports_read_api import _token

from outreach.indicators.catalogue import SEED_FILE
from outreach.indicators.measures import MEASURES


def _seed_indicators():
    with open(SEED_FILE, encoding="utf-8") as handle:
        plan = yaml.safe_load(handle)["plan"]
    return [i for axis in plan["axes"] for action in axis["actions"] for i in action["indicators"]]


def test_every_catalogue_indicator_has_a_written_definition():
    missing = [i["code"] for i in _seed_indicators()
               if len((i.get("definition") or "").strip()) < 40]
    assert not missing, f"indicators without a definition: {missing}"


def test_every_definition_says_which_data_it_counts():
    """Validated shifts only unless provisional data is asked for, Paris time for what is dated."""
    for indicator in _seed_indicators():
        text = indicator["definition"]
        assert "validées" in text and "provisoires" in text, indicator["code"]
        if MEASURES[indicator["numerator"]].kind != "median":
            assert "heure de Paris" in text, indicator["code"]


def test_the_definitions_reach_the_read_api(app, client):
    plan = client.get("/api/v1/plan", headers=_token(app, "manager@plan.demo")).get_json()["plan"]
    served = {i["code"]: i["definition"]
              for a in plan["axes"] for x in a["actions"] for i in x["indicators"]}
    assert served == {i["code"]: i["definition"] for i in _seed_indicators()}


def test_the_definitions_reach_the_xlsx_definitions_sheet(client, login):
    login("manager@plan.demo")
    book = load_workbook(io.BytesIO(client.get("/export/indicateurs.xlsx").data))
    sheet = next(book[name] for name in book.sheetnames if name.lower().startswith("déf"))
    rows = {row[0]: row[2] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    for indicator in _seed_indicators():
        assert rows.get(indicator["code"]) == indicator["definition"], indicator["code"]
