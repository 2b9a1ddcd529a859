"""A plan manager's first screen on a laptop shows figures: the filters are folded into one line
saying the period and scope ("12 derniers mois : … · toutes organisations · Modifier"), opened
with one tap."""

import pytest
from conftest import browser_login

from outreach.contract import local_today
from outreach.indicators.synthetic import build_demo_history

pytestmark = pytest.mark.browser


@pytest.fixture
def history(live_app):
    with live_app.test_request_context():
        build_demo_history(today=local_today(), per_day=3)


def test_figures_come_first_and_the_filters_fold_into_one_line(page, history):
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, "manager@plan.demo")
    page.goto("/indicateurs")
    line = page.locator("#filters > summary")
    text = line.inner_text()
    assert text.startswith("12 derniers mois : ") and "toutes organisations" in text
    assert not page.locator("#period").is_visible()
    first = page.locator("tr.indicator-row td.value").first
    assert first.inner_text().strip() not in ("", "—")
    box = first.bounding_box()
    assert box["y"] + box["height"] <= 768  # a figure on the first screen
    line.click()
    page.locator("#period").select_option("year")
    page.locator("#year").fill(str(local_today().year))
    assert page.get_by_text("Pour « Année civile ».").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    assert page.locator("#filters > summary").inner_text().startswith("Année civile : ")
