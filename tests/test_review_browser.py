"""Browser (phone viewport): the supervisor sees an anomaly, corrects with a reason, validates, reads the trail."""
import pytest
from test_review_services import make_contact, make_shift

from outreach.extensions import db

pytestmark = pytest.mark.browser


def test_supervisor_reviews_a_shift(live_app, page):
    from conftest import browser_login
    with live_app.test_request_context():
        shift = make_shift()
        make_contact(shift, 10, kind="anonymous", people=2)
        make_contact(shift, 600)  # planted: after the shift's end
        db.session.commit()
        sid = shift.id
    browser_login(page, "supervisor@aurore.demo")
    page.goto("/revue/")
    assert "hors des horaires" in page.locator("#shifts").inner_text()
    page.locator(f"a[href$='/revue/maraude/{sid}']").click()
    page.locator("#contacts details summary").first.click()
    form = page.locator(".correct-form").first
    form.locator("select[name=field]").select_option("people_count")
    form.locator("input[name=value]").fill("1")
    form.locator("input[name=reason]").fill("compté deux fois")
    form.get_by_role("button", name="Corriger").click()
    page.wait_for_load_state()
    page.locator("#validate").click()
    page.wait_for_load_state()
    assert page.locator("#status").inner_text() == "validée"
    trail = page.locator("#trail").inner_text()
    assert "compté deux fois" in trail and "Nombre de personnes" in trail
