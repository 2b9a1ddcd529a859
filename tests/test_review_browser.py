"""Browser (phone viewport): the supervisor sees an anomaly, corrects with a reason, validates,
reads the trail."""
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
    page.locator("#contacts .row-link").first.tap()  # the row opens its contact's correction form
    page.wait_for_url("**/corriger")
    form = page.locator("#correct-form")
    assert form.get_by_label("Type de contact").input_value() == "anonymous"
    form.get_by_label("Tranche d'âge").select_option(label="18-25 ans")
    form.get_by_label("Nombre de personnes").fill("1")
    form.get_by_label("Motif de la correction (obligatoire)").fill("compté deux fois")
    with page.expect_navigation():
        form.get_by_role("button", name="Enregistrer la correction").click()
    assert ("Correction enregistrée : Tranche d'âge, Nombre de "
            "personnes." in page.locator("main").inner_text())
    assert "18-25 ans" in page.locator("#contacts").inner_text()
    with page.expect_navigation():  # a click alone does not wait for the next page
        page.locator("#validate").click()
    assert page.locator("#status").inner_text() == "validée"
    trail = page.locator("#trail").inner_text()
    assert "compté deux fois" in trail and "Nombre de personnes : 2 → 1" in trail
    assert "Tranche d'âge : ∅ → 18-25 ans" in trail
