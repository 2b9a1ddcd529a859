"""`make run` (seed-demo --history, as the Makefile runs it) gives a plan manager a dashboard with
figures for each of the last 12 complete months, the month in progress apart (issue 19, "Done
means")."""
import re
from html import unescape

import pytest
from conftest import do_login

from outreach.indicators import services


# `make run` serves SQLite; the figures' queries on PostgreSQL are proved by the indicator tests.
@pytest.mark.backend_only("sqlite")
def test_make_runs_demo_gives_a_manager_twelve_complete_months_of_figures(app):
    with app.app_context():  # the flask command pushes one
        result = app.test_cli_runner().invoke(args=["seed-demo", "--history"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    do_login(client, "manager@plan.demo")
    dashboard = unescape(client.get("/indicateurs").get_data(as_text=True))
    with app.test_request_context():
        running = services.current_month()
        months = [services.month_label(services.add_months(running.start, -n))
                  for n in range(12, 0, -1)]
    summary = re.search(r"<summary>(.*?)</summary>", dashboard, re.DOTALL).group(1)
    assert f"{months[0]} à {months[-1]}" in summary
    value = re.search(r'<tr class="indicator-row[^"]*"[^>]*>.*?<td class="num '
                      r'value[^"]*">([^<]+)</td>', dashboard,
                      re.DOTALL).group(1)
    assert re.fullmatch(r"[\d  ]+(,\d)?( %)?", value.strip()) and value.strip() != "0"
    drill = unescape(client.get("/indicateurs/contacts?by=month").get_data(as_text=True))
    table = drill[drill.index("<tbody"):drill.index("</tbody>")]
    shown = dict(re.findall(r"<tr><t[hd][^>]*>([^<]+)</t[hd]><td[^>]*>([^<]+)</td></tr>", table))
    assert list(shown) == months  # one row a month, the 12 complete ones, none partial
    for month in months:
        assert int(re.sub(r"\D", "", shown[month])) > 100, (month, shown.get(month))
