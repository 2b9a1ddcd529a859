"""Issue 16, "faster than a paper tally": a scripted night on a 390 × 844 phone, tapped as a worker
taps (locator.tap(), keyboard typing for text). Before every save Enregistrer is on screen without
scrolling; after it the confirmation is on screen next to it and the shift's counter has moved. The
same night completes without JavaScript (plain POST, the page lands on the form with the
confirmation in view).

Tap budgets of the issue: a refusal in at most 2 taps (1 on the tally, 2 on the form); a known
person with one kit in 2 taps after the code; an anonymous group of 4 with 4 kits in at most 3 (the
tally's link, "4", "un chacun·e"). The tally's confirmation and running totals are on screen after
each tap."""
import pytest
from conftest import browser_login
from playwright.sync_api import expect

from outreach.extensions import db
from outreach.models import Contact, Orientation, Shift, User

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "screen": {"width": 390, "height": 844},
         "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


class Night:
    """A worker's thumb on the logging page: every tap counted, every save checked where the eyes
    are."""

    def __init__(self, page, live_app, js):
        self.page, self.live_app, self.js, self.taps, self.saved = page, live_app, js, 0, 0

    def tallied(self):
        with self.live_app.app_context():
            return (db.session.execute(db.select(db.func.count(Contact.id))).scalar_one()
                    - self.saved)

    def tap(self, locator):
        locator.tap()
        self.taps += 1

    def type_into(self, name, text):
        """One tap on the field, then the phone's keyboard (what was there is erased first)."""
        self.tap(self.page.locator(f"#contact-form [name={name}]"))
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def choose(self, text):
        self.tap(self.page.locator("#contact-form label.chip", has_text=text).first)

    def kit(self):
        """One kit: the "+1" next to it with JavaScript, else its quantity typed."""
        if self.js:
            self.tap(self.page.locator("#contact-form .stepper",
                                       has_text="Kit base").locator("button.step"))
        else:
            self.type_into("material-kit_base", "1")

    def tally(self, name, value, said="Enregistré."):
        """One tap on the tally: its confirmation and totals in view, the record on the server."""
        page = self.page
        button = page.locator(f"#tally-form button[name={name}]"
                              + ("[data-each]" if value == "each" else
                                  f"[value='{value}']"))
        if self.js:
            with page.expect_response(lambda r: r.request.method == "POST"
                                      and r.status in (200, 201)):
                self.tap(button)
        else:
            with page.expect_navigation():
                self.tap(button)
        expect(page.locator("#tally-said")).to_have_text(said)
        expect(page.locator("#tally-said")).to_be_in_viewport()
        expect(page.locator("#tally-totals")).to_be_in_viewport()

    def save(self):
        page, save = self.page, self.page.locator("#contact-save")
        expect(save).to_be_in_viewport()  # in reach without scrolling
        if self.js:
            with page.expect_response(lambda r: r.request.method == "POST"
                                      and "/encounters" in r.url) as answer:
                self.tap(save)
            assert answer.value.status == 201, answer.value.text()
        else:
            with page.expect_navigation():
                self.tap(save)
        self.saved += 1
        notice = page.locator("#saved .offline-notice")
        expect(notice).to_have_text("Contact enregistré.")
        expect(notice).to_be_in_viewport()
        expect(save).to_be_in_viewport()
        expect(page.locator("#undo")).to_be_in_viewport()
        expect(page.locator("h1 .contact-count")).to_have_text(str(self.saved + self.tallied()))
        expect(page.locator("#saved .contact-count")).to_have_text(str(self.saved + self.tallied()))
        # "Aucun contact." gone
        expect(page.locator("#contacts li")).to_have_count(self.saved + self.tallied())
        if self.js:
            # the form is back
            expect(page.locator("#contact-form [name=pseudo_name]")).to_be_enabled()


@pytest.fixture(params=[True, False], ids=["js", "no_js"])
def phone(request, browser, base_url):
    context = browser.new_context(**PHONE, base_url=base_url, locale="fr-FR",
                                  java_script_enabled=request.param)
    yield context.new_page(), request.param
    context.close()


def test_scripted_night_on_a_phone_within_the_tap_budgets(phone, live_app):
    page, js = phone
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")
    expect(page.locator("#contacts li")).to_have_text(["Aucun contact."])
    night = Night(page, live_app, js)

    for name, text in (("pseudo_initial", "Q"), ("pseudo_name", "Zorglubix"),
                       ("pseudo_birth", "1977")):
        night.type_into(name, text)
    night.tap(page.locator("#contact-form label.chip:has(input[name=sex][value=m])"))
    night.taps = 0  # the code typed: the budget counts from here
    night.kit()
    night.save()
    assert night.taps <= 2, "a known person with one kit: at most 2 taps after the code"

    night.taps = 0  # a group of 4 with 4 kits, on the tally: its link, "4", "un chacun·e"
    with page.expect_navigation():
        night.tap(page.locator("#tally-link"))
    night.tally("people", "4")
    night.tally("quantity", "each")
    assert night.taps <= 3, "a group of 4 with 4 kits: at most 3 taps"
    expect(page.locator("#tally-totals")).to_contain_text("Passages : 4 pers. · Kit base : 5 · "
                                                          "Refus : 0")

    night.taps = 0  # on the tally already
    night.tally("kind", "refusal")
    assert night.taps <= 2, "a refusal: at most 2 taps"
    expect(page.locator("#tally-totals")).to_contain_text("Refus : 1")
    night.tally("people", "2")
    night.tally("undo", "1", said="Annulé.")  # the last tap taken back
    expect(page.locator("#tally-totals")).to_contain_text("Passages : 4 pers.")
    with page.expect_navigation():
        page.locator("a", has_text="Formulaire complet").tap()

    night.taps = 0  # a refusal on the form too
    night.choose("Refus")
    if js:  # the type shows what it needs, nothing of a person's code
        expect(page.locator("#pseudo")).to_be_hidden()
        expect(page.locator("#contact-form [name=material-kit_base]")).to_be_hidden()
    night.save()
    assert night.taps <= 2, "a refusal: at most 2 taps"

    night.choose("Passage anonyme")
    night.tap(page.locator("#contact-form summary", has_text="Orientations"))
    orientation = page.locator("#contact-form .orient", has_text="CSAPA")
    night.tap(orientation.locator("label.chip").first)
    night.tap(orientation.locator("label.chip").last)  # accompagné·e, on the CSAPA row
    night.save()

    page.locator("summary", has_text="Clore").tap()
    with page.expect_navigation():
        page.locator("#shift-close-form button[type=submit]").tap()
    page.wait_for_selector("#shift-form")
    with live_app.app_context():
        assert db.session.execute(db.select(Shift.status)).scalar_one() == "closed"
        contacts = db.session.execute(db.select(Contact)).scalars().all()
        assert sorted((c.kind, c.people_count, sum(m.quantity for m in c.materials))
                      for c in contacts) == [
            ("anonymous", 1, 0), ("anonymous", 4, 4), ("known", 1, 1), ("refusal", 1, 0),
            ("refusal", 1, 0)]
        orientation = db.session.execute(db.select(Orientation)).scalar_one()
        assert (orientation.destination.code, orientation.is_accompanied) == ("csapa", True)


def _luminance(css_rgb):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(x) for x in css_rgb[css_rgb.index("(") + 1:css_rgb.index(")")].split(",")[:3])
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_night_use_targets_are_thumb_sized_and_nothing_bright_dominates_in_the_dark(page, live_app):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")
    targets = ("#contact-form summary, #contact-form button.step, .top nav a, #logout-form button, "
               ".foot a, #contact-form label.chip")
    small = page.eval_on_selector_all(targets, """els => els.filter(e => e.offsetParent).map(e => {
        const r = e.getBoundingClientRect(); return [e.textContent.trim(), r.width, r.height]; })
        .filter(([, w, h]) => w < 44 || h < 44)""")
    assert small == []
    page.emulate_media(color_scheme="dark")
    for selector in (".top", "#contact-save", "#contact-form label.chip input:checked + span"):
        background = page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")
        assert _luminance(background) < 0.1, (selector, background)  # #8ab4f8 is 0.45


def test_material_comes_in_the_order_the_team_gives_it(app, client, login):
    login("worker@aurore.demo")
    with app.app_context():
        team = db.session.execute(db.select(User).filter_by(
            email="worker@aurore.demo")).scalar_one().teams[0].code
    client.post("/maraude", data={"team": team})
    page = client.get("/maraude").get_data(as_text=True)
    # the set order
    assert page.index('name="material-kit_base"') < page.index('name="material-naloxone"')
    for _ in range(2):
        assert client.post("/maraude/contacts",
                           data={"kind": "anonymous", "material-naloxone": "3"}).status_code == 302
    page = client.get("/maraude").get_data(as_text=True)
    # given most, first
    assert page.index('name="material-naloxone"') < page.index('name="material-kit_base"')
    frequent, folded = page.split("Autre matériel", 1)
    assert 'name="material-collation"' in frequent and 'name="material-couverture"' in folded


def test_a_contact_kept_on_the_device_counts_at_once_and_is_confirmed_in_view(page, live_app):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")
    page.context.set_offline(True)
    page.locator("#contact-form label.chip", has_text="Refus").tap()
    page.locator("#contact-save").tap()
    notice = page.locator("#saved .offline-notice")
    expect(notice).to_contain_text("enregistré sur l'appareil")
    expect(notice).to_be_in_viewport()
    expect(page.locator("h1 .contact-count")).to_have_text("1")
    expect(page.locator("#contacts li")).to_have_count(1)
    expect(page.locator("#contacts li")).to_contain_text(["Refus"])
    page.context.set_offline(False)
    page.evaluate("dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-status")).to_be_hidden()  # sent
    with live_app.app_context():
        assert db.session.execute(db.select(Contact.kind)).scalars().all() == ["refusal"]


SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, summary, select, input:not([type=hidden]), label.chip, nav a, .foot a, a.button, '
    + '.actions a')]
  .filter(e => e.offsetParent
          && !(e.matches('input[type=radio], input[type=checkbox]') && e.closest('label')))
  .map(e => {
    const r = e.getBoundingClientRect();
    return [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30),
            Math.round(r.width), Math.round(r.height)];
  })
  .filter(([, w, h]) => w < 44 || h < 44)"""


def test_every_worker_page_has_thumb_sized_targets_on_a_phone(page, live_app):
    """Issue 16 item 9: buttons, toggles, menu and footer links, chips and fields at least 44 × 44
    px on every page a worker opens (links inside a sentence or a table cell are text, not
    targets)."""
    from test_axe_every_page import _html_pages
    from test_labels_pages import make_history, page_urls
    urls = [url for _, url in page_urls(live_app, make_history(live_app))]
    pages = _html_pages(live_app, urls, "worker@aurore.demo") + ["/maraude/compteur"]
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    if page.locator("#shift-form").count():
        page.locator("#shift-form button[type=submit]").tap()
        page.wait_for_selector("#contact-form")
    small = {}
    for url in pages:
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        found = page.evaluate(SMALL_TARGETS)
        if found:
            small[url] = found
    assert len(pages) >= 4
    assert small == {}
    page.evaluate("const b = document.createElement('button'); b.textContent = 'x';"
                  " b.style.setProperty('min-height', '20px'); b.style.setProperty('height', "
                  "'20px'); document.body.append(b)")
    # the check itself can fail
    assert page.evaluate(SMALL_TARGETS), "the measure sees a small button"


def test_the_tally_and_logging_pages_pass_axe_light_and_dark_with_an_open_shift(page, live_app):
    from test_browser_foundation import axe_violations
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")
    page.locator("#tally-link").tap()
    page.wait_for_selector("#tally-form")
    page.locator("#tally-form button[name=people][value='3']").tap()  # the group's buttons enabled
    expect(page.locator("#tally-said")).to_have_text("Enregistré.")
    found = {}
    for url in ("/maraude/compteur", "/maraude"):
        page.goto(url)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            if violations := axe_violations(page):
                found[f"{url} ({scheme})"] = violations
    assert found == {}
