"""A plan manager's figures read the same everywhere (issue 19 items 7 and 11): the last 12
*complete* months with the month in progress apart ("en cours"), numbers and percentages written
the French way (English in English) by one helper."""
import html
import re
from datetime import date, timedelta

from export_helpers import _row, import_rows

from outreach.extensions import db
from outreach.indicators import services
from outreach.indicators.suppression import Hidden, display
from outreach.numbers import number, percent, signed


def test_numbers_are_written_with_the_separators_of_the_language(app):
    with app.test_request_context():
        assert number(7184.9) == "7\u202f184,9" and number(-2139.2) == "\u22122\u202f139,2"
        assert display(9495.96) == "9\u202f496"  # once "9496,0"
        assert (percent(26.34) == "26,3\xa0%" and percent(100 / 3) == "33,3\xa0%"
                and percent(None) == "—")
        assert signed(4) == "+4" and signed(-0.5) == "\u22120,5" and number(Hidden(5)) == "< 5"
        assert percent(Hidden(5)) == "s"  # a share computed from a withheld count is withheld too
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert number(7184.9) == "7,184.9" and percent(26.34) == "26.3%"


def _today_rows(app, count):
    day = services.local_today()
    with app.app_context(), app.test_request_context():
        import_rows("aurore", [_row(day, "aurore_nord") for _ in range(count)])
        import_rows("aurore", [_row(day.replace(day=1) - timedelta(days=3), "aurore_nord")])
        db.session.commit()


def _cell(page, code, css):
    row = re.search(rf'<tr class="indicator-row" data-code="{code}">(.*?)</tr>', page,
                    re.DOTALL).group(1)
    return html.unescape(
        re.search(rf'<td class="{css}">(.*?)</td>', row, re.DOTALL).group(1)).strip()


def test_the_last_12_months_are_complete_and_the_month_in_progress_is_apart(app, client, login):
    _today_rows(app, 7)
    login("supervisor@aurore.demo")
    page = client.get("/indicateurs").get_data(as_text=True)
    with app.test_request_context():
        running = services.current_month()
        last = services.month_label(services.add_months(running.start, -1))
        first = services.month_label(services.add_months(running.start, -12))
        label = running.label
    summary = html.unescape(re.search(r"<summary>(.*?)</summary>", page, re.DOTALL).group(1))
    # ends with the last complete month
    assert f"{first} à {last}" in summary and "en cours" not in summary
    assert f"{label} <span class=\"badge warn\">en cours</span>" in page
    # the month in progress is not in the 12 months
    assert _cell(page, "contacts", "num value") == "1"
    assert _cell(page, "contacts", "num running") == "7"  # it is shown apart
    this_month = client.get("/indicateurs?period=month").get_data(as_text=True)
    assert "en cours" in re.search(r"<summary>(.*?)</summary>", this_month, re.DOTALL).group(1)
    by_month = html.unescape(
        client.get("/indicateurs/contacts?period=year&by=month").get_data(as_text=True))
    assert f"{label} (en cours)" in by_month


def test_the_period_parser_never_ends_the_12_months_with_a_partial_one():
    period = services.parse_period({}, date(2026, 12, 1))
    assert period.bounds == (date(2025, 12, 1), date(2026, 11, 1)) and period.months == 12


def test_charts_have_an_axis_labelled_values_and_their_numbers_as_text(app, client, login):
    _today_rows(app, 7)
    login("supervisor@aurore.demo")
    page = html.unescape(
        client.get("/indicateurs/contacts?period=year&by=month").get_data(as_text=True))
    chart = re.search(r'<svg class="bars".*?</svg>', page, re.DOTALL).group(0)
    table = re.search(r'<table id="breakdown">.*?</table>', page, re.DOTALL).group(0)
    body = table[:table.index("<tfoot>")]  # the rows, not the period's total
    months = re.findall(r'<tr><th scope="row">(.*?)</th>', body)
    assert len(months) == 12 and chart.count("<line") == 1  # the axis
    labels = re.findall(r'text-anchor="end">(.*?)</text>', chart)
    assert labels == months  # one line per row, labelled with its period
    values = re.findall(r'<td class="num">(.*?)</td>', body)
    assert chart.count("<rect") == sum(1 for v in values if v != "0")
    assert re.findall(r'text-anchor="start">(.*?)</text>', chart) == values
    # the numbers, said
    assert months[-1] + " 7" in re.search(r'aria-label="(.*?)"', chart).group(1)
    for url in ("/indicateurs/contacts", "/parcours", "/indicateurs"):
        assert ("« s » : part ou taux "
                "masqué" in html.unescape(client.get(url).get_data(as_text=True)))
    dashboard = html.unescape(client.get("/indicateurs").get_data(as_text=True))
    spark = re.search(r'<tr class="indicator-row" data-code="contacts">.*?<svg '
                      r'class="spark"[^>]*aria-label="(.*?)"',
                      dashboard, re.DOTALL)
    with app.test_request_context():
        last = services.month_label(services.add_months(services.current_month().start, -1))
    # each month's value is said, ending with the last complete one
    assert spark and f"{last} 1" in spark.group(1)
