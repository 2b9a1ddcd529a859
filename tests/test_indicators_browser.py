"""Dashboard, a drill-down and the funnel in Chromium, on a phone and on a laptop."""
import pytest
from conftest import browser_login
from playwright.sync_api import expect
from test_indicators_measures import world  # noqa: F401 (fixture: data in the shared test database)

pytestmark = pytest.mark.browser


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", [None, {"width": 1366, "height": 800}],
                         ids=["phone", "laptop"])
def test_dashboard_drill_down_and_funnel(page, world, viewport):  # noqa: F811
    if viewport:
        page.set_viewport_size(viewport)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    browser_login(page, "supervisor@aurore.demo")
    page.goto("/indicateurs?period=month&month=2026-03")
    assert page.get_by_role("heading", name="Indicateurs du plan").is_visible()
    row = page.locator("tr[data-code=contacts] td.value")
    assert row.inner_text().strip() == "5"  # Aurore's own validated contacts in March, in clear
    assert fits(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Rencontres", exact=True).first.click()
    with page.expect_navigation():  # a click alone does not wait for the next page
        page.get_by_role("link", name="Par équipe").click()
    expect(page.locator("#breakdown")).to_be_visible()
    assert "Maraude Nord" in page.locator("#breakdown").inner_text()
    assert fits(page)
    page.goto("/parcours?period=month&month=2026-03")
    assert page.locator("#shelter").is_visible()
    assert "ASSORE" in page.locator("#programmes").inner_text()
    assert fits(page)
    assert errors == []
