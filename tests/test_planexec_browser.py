"""The plan's report card in Chromium: no console error, and printed it is an A4 document without
the menus."""
import re

import pytest
from conftest import browser_login

pytestmark = pytest.mark.browser

A4_POINTS = (595, 842)  # 210 x 297 mm


def test_the_report_card_prints_on_a4_without_navigation(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    browser_login(page, "manager@plan.demo")
    page.get_by_role("link", name="Exécution du plan").click()
    page.wait_for_url(re.compile(r"/execution/"))
    page.get_by_label("Du", exact=True).fill("2021-01-01")
    page.get_by_label("au", exact=True).fill("2021-12-31")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(r"from=2021-01-01"))
    assert page.get_by_role("heading", name=re.compile("Tableau de bord du plan")).is_visible()
    assert "ASSORE" in page.locator("#places").inner_text()
    # a phone: tables scroll
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.emulate_media(media="print")
    assert not page.locator("header.top nav").is_visible()
    assert not page.get_by_role("button", name="Afficher").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=False)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    sizes = {tuple(round(float(x)) for x in box) for box in boxes}
    assert sizes == {A4_POINTS}
    assert errors == []
