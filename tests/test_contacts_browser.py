"""Phone viewport: a whole shift logged through the real page; the DB then holds exactly that."""
import pytest
from conftest import browser_login
from playwright.sync_api import expect

from outreach.extensions import db
from outreach.models import Contact, Orientation, Person, Referral, Shift, ShiftStock

pytestmark = pytest.mark.browser


def _save(page, live_app):
    """Save, then wait until the page lists the contact: the server has stored it (plain POST, or
    the queue's API call, after which the page resets the form and adds the contact to its list)."""
    listed = page.locator("#contacts li:not(.muted)")
    before = listed.count()
    with live_app.app_context():
        stored = db.session.query(Contact).count()
    page.locator("#contact-save").click()
    expect(listed).to_have_count(before + 1)
    page.wait_for_selector("text=/enregistré/i")
    with live_app.app_context():
        assert db.session.query(Contact).count() == stored + 1


def _kind(page, label):
    page.locator("#contact-form label.chip", has_text=label).first.click()


def _known_with_kit(page, taps, live_app):
    page.locator("[name=pseudo_initial]").fill("Q")
    page.locator("[name=pseudo_name]").fill("Zorglubix")
    page.locator("[name=pseudo_birth]").fill("1977")
    page.locator("#pseudo-check").click()
    page.wait_for_selector("#pseudo-status:not(:empty)")
    page.locator("#contact-form button.step").first.click()
    taps.append("kit")
    _save(page, live_app)
    taps.append("save")


def test_whole_shift_on_a_phone(page, live_app):
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("[name=stock_out-kit_base]").fill("20")
    page.locator("#shift-form button[type=submit]").click()
    page.wait_for_selector("#contact-form")
    taps = []
    _known_with_kit(page, taps, live_app)
    assert len(taps) <= 5
    _known_with_kit(page, [], live_app)
    _kind(page, "Passage anonyme")
    page.locator("[name=people_count]").fill("3")
    _save(page, live_app)
    _kind(page, "Passage anonyme")
    page.eval_on_selector_all("#contact-form details", "ds => ds.forEach(d => { d.open = true; })")
    page.locator("label.chip", has_text="ASSORE").click()
    _save(page, live_app)
    _kind(page, "Passage anonyme")
    page.eval_on_selector_all("#contact-form details", "ds => ds.forEach(d => { d.open = true; })")
    page.locator("[name=orientation-csapa]").check()
    page.locator("[name=accompanied-csapa]").check()
    _save(page, live_app)
    _kind(page, "Refus")
    _save(page, live_app)
    page.locator("summary", has_text="Clore").click()
    page.locator("[name=stock_back-kit_base]").fill("18")
    page.locator("#shift-close-form button[type=submit]").click()
    page.wait_for_selector("#shift-form")
    with live_app.app_context():
        shift = db.session.execute(db.select(Shift)).scalar_one()
        assert shift.status == "closed"
        kinds = sorted((c.kind, c.people_count)
                       for c in db.session.execute(db.select(Contact)).scalars())
        assert kinds == [("anonymous", 1), ("anonymous", 1), ("anonymous", 3), ("known", 1),
                         ("known", 1), ("refusal", 1)]
        assert db.session.query(Person).count() == 1
        assert [r.programme.code
                for r in db.session.execute(db.select(Referral)).scalars()] == ["assore"]
        orientation = db.session.execute(db.select(Orientation)).scalar_one()
        assert (orientation.destination.code, orientation.is_accompanied) == ("csapa", True)
        stock = db.session.execute(db.select(ShiftStock)).scalar_one()
        assert (stock.material.code, stock.taken_out, stock.brought_back) == ("kit_base", 20, 18)
        given = sum(m.quantity for c in db.session.execute(db.select(Contact)).scalars()
                    for m in c.materials)
        assert given == 2


def test_a_contact_is_corrected_from_the_shift_list_on_a_phone(page, live_app):
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").click()
    page.wait_for_selector("#contact-form")
    _kind(page, "Passage anonyme")
    _save(page, live_app)
    page.reload()  # the list as the server draws it, with its "Modifier" links
    page.locator("#contacts .edit-contact").first.click()
    page.wait_for_selector("#contact-edit")
    # fits the phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#contact-edit [name=people_count]").fill("3")
    page.locator("#contact-edit label.chip", has_text="Refus").first.click()
    page.locator("#contact-update").click()
    page.wait_for_selector("text=Contact modifié.")
    assert "Refus ×3" in page.locator("#contacts li").first.inner_text()
    with live_app.app_context():
        contact = db.session.execute(db.select(Contact)).scalar_one()
        assert (contact.kind, contact.people_count) == ("refusal", 3)
    page.locator("#contacts .edit-contact").first.click()
    # refused with the field named, nothing changed
    page.locator("#contact-edit [name=people_count]").fill("0")
    page.eval_on_selector("#contact-edit", "f => { f.noValidate = true; }")
    page.locator("#contact-update").click()
    page.wait_for_selector("[role=alert] li[data-field=people_count]")
    with live_app.app_context():
        assert db.session.execute(db.select(Contact.people_count)).scalar_one() == 3
