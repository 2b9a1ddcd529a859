"""Phone viewport: a worker moves a referral from the list to admission and exit, without typing a
date."""
import pytest
from conftest import browser_login
from test_referrals import make_referral

from outreach.extensions import db
from outreach.models import Referral
from outreach.referrals.services import today

pytestmark = pytest.mark.browser


def _open(page, referral_id):
    page.goto("/orientations/")
    page.locator(f"a[href='/orientations/{referral_id}']").click()
    page.wait_for_selector("#history")


def test_worker_advances_a_referral_on_a_phone(page, live_app):
    stale = make_referral(live_app, days_ago=9, person_code="ab12cd" + "0" * 58)
    browser_login(page, "worker@aurore.demo")
    page.goto("/orientations/")
    assert "AB12CD" in page.locator("#referrals").inner_text()
    assert page.locator(".stale-flag").count() == 1
    _open(page, stale)
    page.locator("#step-accepted button[type=submit]").click()
    page.wait_for_selector("text=/Orientation hébergement ASSORE : acceptée le/")
    _open(page, stale)
    page.locator("#step-admitted button[type=submit]").click()
    page.wait_for_selector("text=/admise le/")
    assert page.locator(".stale-flag").count() == 0  # a fresh step clears the flag
    _open(page, stale)
    page.locator("#step-exited label.chip", has_text="Logement / hébergement stable").click()
    page.locator("#step-exited button[type=submit]").click()
    page.wait_for_selector("text=/sortie le/")
    # no longer open
    assert page.locator(f"#referrals a[href='/orientations/{stale}']").count() == 0
    # listed with the recently ended
    assert page.locator(f"#ended a[href='/orientations/{stale}']").count() == 1
    with live_app.app_context():
        referral = db.session.get(Referral, stale)
        assert [(e.status, e.occurred_on, e.recorded_by.email) for e in referral.events][1:] == [
            (s, today(), "worker@aurore.demo") for s in ("accepted", "admitted", "exited")]
        assert referral.exit_reason.code == "logement_stable"
