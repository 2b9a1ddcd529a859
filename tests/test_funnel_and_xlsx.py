"""The pathway funnel is true and the XLSX is tidy (issue 19 items 10 and 12)."""
import io
import re
from html import unescape

from export_helpers import seed_contacts
from openpyxl import load_workbook
from sqlalchemy import select
from test_indicators_measures import world  # noqa: F401 (fixture)

from outreach.extensions import db
from outreach.indicators import services
from outreach.indicators.suppression import Hidden
from outreach.models import User

MARCH = "period=month&month=2026-03"


def _board(email, filters=None):
    user = db.session.execute(select(User).filter_by(email=email)).scalar_one()
    period = services.parse_period({"period": "month", "month": "2026-03"})
    return services.funnel(period, filters or {}, user)


def test_shelter_pathway_and_care_orientations_are_two_chains(world):  # noqa: F811
    data = _board("supervisor@aurore.demo", {"organisation_id": db.session.execute(
        select(User.organisation_id).filter_by(email="supervisor@aurore.demo")).scalar()})
    assert [s.code for s in data["shelter"]] == ["referrals_proposed", "referrals_accepted",
                                                 "admissions",
                                                "exits_stable"]
    assert [s.code for s in data["care"]] == ["orientations", "orientations_accompanied"]
    proposed = data["shelter"][0].value
    # chains start fresh
    assert proposed and data["shelter"][0].share is None and data["care"][0].share is None
    # each step: share of the one before it
    for before, after in zip(data["shelter"], data["shelter"][1:]):
        assert after.share == (after.value / before.value * 100 if before.value else None)
    assert data["care"][1].share == data["care"][1].value / data["care"][0].value * 100
    assert data["no_place"].share == data["no_place"].value / proposed * 100


def test_shares_come_from_published_counts_and_are_withheld_with_them():
    assert services.step_share(Hidden(5),
                               12) == Hidden(5) and services.step_share(12, Hidden(5)) == Hidden(5)
    assert (services.step_share(8, 6) == 75 and services.step_share(0, 0) is None
            and services.step_share(None, 3) is None)


def test_the_funnel_page_shows_each_chain_apart(client, login, world):  # noqa: F811
    login("manager@plan.demo")
    page = unescape(client.get(f"/parcours?{MARCH}").get_data(as_text=True))
    shelter = re.search(r'<ol class="funnel" id="shelter">(.*?)</ol>', page, re.DOTALL).group(1)
    care = re.search(r'<ol class="funnel" id="care">(.*?)</ol>', page, re.DOTALL).group(1)
    assert "Orientations vers le soin" not in shelter and "Orientations vers le soin" in care
    assert "Admises" in shelter and "Sorties vers un logement stable" in shelter
    assert "Refusées faute de place" in page
    # 2 proposals in March: every shelter count is withheld from a plan manager, and so is every
    # share
    assert "< 5" in shelter and "s de l'étape précédente" in shelter \
        and re.search(r"\d+\s?% de l'étape", shelter) is None


def _sheets(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def test_the_xlsx_is_tidy(app, client, login):
    day = seed_contacts(app)
    login("manager@plan.demo")
    month = day.strftime("%Y-%m")
    book = _sheets(client, f"/export/indicateurs.xlsx?period=custom&from={month}&to={month}")
    assert book.sheetnames[0] == "Définitions"
    assert len({n.lower() for n in book.sheetnames}) == len(book.sheetnames)
    assert "1.1 Renforcer les maraudes" in book.sheetnames
    for name in book.sheetnames:
        assert (len(name) <= 31
                and not name.endswith((" à", " de", " des", " du", " la", " le", " et")))
    hidden_rows = 0
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        header = [c.value for c in sheet[1]]
        assert header[:8] == ["Code", "Indicateur", "Unité", "Valeur", "Cible", "Part de la cible",
                              "Évolution", "Période précédente"]
        assert sheet.column_dimensions["B"].width > 8
        for row in sheet.iter_rows(min_row=2):
            for c in row[3:8]:  # numeric columns: numbers or empty, never "< 5"
                assert (c.value is None
                        or isinstance(c.value, (int, float))), (sheet.title, c.coordinate, c.value)
                if isinstance(c.value, int):
                    assert c.number_format == "#,##0"
            if row[5].value is not None:
                assert row[5].number_format == "0.0%"  # share of the target: a percentage
            if row[2].value == "%" and row[3].value is not None:
                assert row[3].number_format == "0.0%"
            if len(row) > 8 and row[8].value:
                hidden_rows += 1
                assert ("< 5" in row[8].value and row[3].value is None
                        or "Valeur" not in row[8].value)
    assert hidden_rows  # the small gaia counts of a plan manager's export are flagged, not written
    definitions = book["Définitions"]
    header_row = next(r[0].row for r in definitions.iter_rows() if r[0].value == "Code")
    assert definitions.freeze_panes == f"A{header_row + 1}"
    assert any(r[0] == "Cellules vides" for r in definitions.iter_rows(values_only=True))


def test_the_funnel_xlsx_writes_shares_as_percentages(app, client, login):
    day = seed_contacts(app)
    login("supervisor@aurore.demo")
    month = day.strftime("%Y-%m")
    book = _sheets(client, f"/export/parcours.xlsx?period=custom&from={month}&to={month}")
    assert book.sheetnames == ["Définitions", "Parcours", "Par programme"]
    rows = list(book["Parcours"].iter_rows(min_row=2))
    assert [r[0].value for r in rows].count("Soin") == 2
    proposed, accepted = rows[0], rows[1]
    assert proposed[2].value == 6 and proposed[2].number_format == "#,##0"
    if accepted[3].value is not None:
        assert accepted[3].number_format == "0.0%" and accepted[3].value <= 1
