"""The indicator pages link to CSV and XLSX exports of the view on screen (same period and
filters)."""
import csv
import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Indicator


def _links(page):
    block = re.search(r'<p class="actions exports">(.*?)</p>', page, re.DOTALL)
    assert block, "no export links on the page"
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', block.group(1))]


def _check_downloads(client, links, must_contain):
    xlsx, csv_semicolon, csv_comma = links
    for link in links:
        assert all(part in link for part in must_contain), link
    response = client.get(xlsx)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(response.data)).sheetnames
    for link, separator in ((csv_semicolon, ";"), (csv_comma, ",")):
        response = client.get(link)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        text = response.get_data(as_text=True).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=separator))
        assert len(rows) > 1 and len(rows[0]) > 1, link


def test_dashboard_indicator_and_funnel_pages_link_to_their_exports(app, client, login):
    with app.app_context():
        code = db.session.execute(select(Indicator.code).order_by(Indicator.id)).scalars().first()
    login("manager@plan.demo")
    period = "period=custom&from=2026-01&to=2026-03"
    pages = (
        (f"/indicateurs?{period}", ["/export/indicateurs.", "from=2026-01", "to=2026-03"]),
        (f"/indicateurs/{code}?{period}&by=team",
         [f"/export/indicateurs/{code}.", "by=team", "from=2026-01"]),
        (f"/parcours?{period}", ["/export/parcours.", "from=2026-01"]),
    )
    for url, must_contain in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        links = _links(response.get_data(as_text=True))
        assert [link.split("?")[0].rsplit(".", 1)[1] for link in links] == ["xlsx", "csv", "csv"]
        assert "sep=," in links[2] and "sep=" not in links[1]
        _check_downloads(client, links, must_contain)


def test_stray_format_arguments_do_not_break_the_links(client, login):
    login("manager@plan.demo")
    response = client.get("/indicateurs?fmt=pdf&sep=,")
    assert response.status_code == 200
    xlsx, csv_semicolon, _comma = _links(response.get_data(as_text=True))
    assert xlsx.startswith("/export/indicateurs.xlsx") and "fmt=" not in xlsx
    assert "sep=" not in csv_semicolon
