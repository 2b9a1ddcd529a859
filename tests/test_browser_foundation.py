"""The login page on a phone, in a real Chromium: French, accessible, each role lands home."""
import os

import pytest
from conftest import browser_login
from flask import url_for

from outreach import ROOT
from outreach.access import HOME_ENDPOINTS

pytestmark = pytest.mark.browser
AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")


def axe_violations(page):
    if not os.path.exists(AXE):
        pytest.skip("axe-core not installed (npm install)")
    with open(AXE, encoding="utf-8") as fh:
        # injected through the devtools protocol: our CSP forbids inline scripts
        page.evaluate(fh.read())
    return page.evaluate("async () => (await axe.run()).violations.map(v => v.id + ': ' + v.help)")


def test_login_page_is_french_accessible_and_fits_a_phone(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/connexion")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Connexion").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways on a phone"
    button = page.get_by_role("button", name="Se connecter").bounding_box()
    assert button["height"] >= 44, "tap target too small"
    assert axe_violations(page) == []
    assert errors == [], errors


def test_wrong_password_shows_a_french_message(page):
    browser_login(page, "worker@aurore.demo", "not-the-password")
    assert page.get_by_text("Adresse e-mail ou mot de passe incorrect.").is_visible()


@pytest.mark.parametrize("email,role", [
    ("worker@aurore.demo", "worker"),
    ("supervisor@aurore.demo", "supervisor"),
    ("manager@plan.demo", "manager"),
    ("admin@aurore.demo", "admin"),
])
def test_each_role_lands_on_its_home_page(page, live_app, email, role):
    with live_app.test_request_context():
        landing = url_for(HOME_ENDPOINTS[role])
    browser_login(page, email)
    assert page.url.endswith(landing)
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
