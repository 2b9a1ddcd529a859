"""axe-core finds no violation, light and dark, on the pages issue 19 named: password change,
plan import, audit log, the logging page with an open shift, a shift summary, the reference
lists; and the summary prints with its organisation, team, date, printed-on date and staff count,
without flash messages."""

import pytest
from conftest import browser_login
from test_browser_foundation import axe_violations

from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators.synthetic import build_demo_history
from outreach.models import Organisation, Shift

pytestmark = pytest.mark.browser


@pytest.fixture
def summary_url(live_app):
    with live_app.test_request_context():
        build_demo_history(today=local_today(), per_day=2)
        aurore = db.session.execute(
            db.select(Organisation.id).filter_by(code="aurore")).scalar_one()
        shift_id = db.session.execute(
            db.select(Shift.id).filter_by(organisation_id=aurore, status="closed")
            .order_by(Shift.shift_on.desc())).scalars().first()
    return f"/revue/maraude/{shift_id}"


def _audit_both_schemes(page):
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.reload()
        found[scheme] = axe_violations(page)
    return found


def _start_shift(page):
    page.goto("/maraude")
    with page.expect_navigation():
        page.get_by_role("button", name="Commencer").click()


@pytest.mark.parametrize("email,paths", [
    ("worker@aurore.demo", ["/mot-de-passe", "/maraude"]),
    ("manager@plan.demo", ["/plan"]),
    ("admin@aurore.demo", ["/admin/journal", "/admin/listes", "/admin/utilisateurs"]),
])
def test_named_pages_have_no_axe_violation_light_and_dark(page, email, paths):
    browser_login(page, email)
    for path in paths:
        if path == "/maraude":
            _start_shift(page)
        page.goto(path)
        assert _audit_both_schemes(page) == {"light": [], "dark": []}, path


def test_the_summary_has_no_axe_violation_and_prints_what_a_reader_needs(page, summary_url):
    browser_login(page, "supervisor@aurore.demo")
    page.goto(summary_url)
    assert _audit_both_schemes(page) == {"light": [], "dark": []}
    with page.expect_navigation():
        page.locator("#validate").click()
    assert page.locator(".flash").is_visible()  # "Maraude validée." on screen...
    page.emulate_media(media="print")
    assert not page.locator(".flash").is_visible()  # ...not on paper
    head = page.locator("#print-head")
    assert (head.is_visible() and "Aurore" in head.inner_text()
            and "imprimée le" in head.inner_text())
    summary = page.locator("#summary").inner_text()
    assert "Intervenant·es : " in summary and "Équipe :" not in summary
    assert ("validée" in page.locator("h1").inner_text()
            and "Maraude" in page.locator("h1").inner_text())
    assert not page.locator("#contacts").is_visible()
