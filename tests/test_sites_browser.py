"""The sites map in a phone's browser with JavaScript turned off, in the light and the dark
scheme."""
import pytest
from conftest import browser_login


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_site_map_renders_without_javascript_in_light_and_dark_schemes(
        browser, playwright, base_url, scheme):
    context = browser.new_context(**playwright.devices["Pixel 5"], locale="fr-FR",
                                  base_url=base_url, java_script_enabled=False, color_scheme=scheme)
    page = context.new_page()
    browser_login(page, "supervisor@aurore.demo")
    page.goto("/sites/carte")
    svg = page.locator("#sites-map")
    svg.wait_for()
    box = svg.bounding_box()
    viewport = page.viewport_size
    assert (box["width"] > 0.8 * viewport["width"] - 40
            and box["x"] + box["width"] <= viewport["width"])
    stalingrad = page.locator("#map-site-stalingrad circle")
    assert stalingrad.is_visible()
    fill = stalingrad.evaluate("c => getComputedStyle(c).fill")
    land = page.locator("#sites-map .arr").first.evaluate("p => getComputedStyle(p).fill")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    expected = {"light": ("rgb(179, 38, 30)", "rgb(238, 241, 245)"),
                "dark": ("rgb(255, 138, 128)", "rgb(28, 34, 43)")}
    assert (fill, land) == expected[scheme], background
    assert page.locator("#sites-table").get_by_text("Stalingrad").is_visible()
    assert page.get_by_text("Paris Open Data (ODbL)").is_visible()
    context.close()
