"""The person code in a real Chromium on a phone: one tap saves a known person, a corrected input is
the one coded, and the browser's stage 1 (normalisation + PBKDF2, through WebCrypto or the plain-JS
fallback of static/src/sha256.js) equals the server's for every character and for a corpus of
awkward names."""
import sys

import pytest
from conftest import browser_login

from outreach.extensions import db
from outreach.maintenance.keys import pseudonym_code
from outreach.models import Contact
from outreach.pseudonyms.services import digest_from_inputs, normalise

pytestmark = pytest.mark.browser

# (initial, name, birth, sex) typed by a worker who has JavaScript or not: the same person must get
# one code.
CORPUS = [
    ("Q", "Zorglubix", "1977", "m"), ("é", "Zorglubix-Dupont", "１９７７", "m"),
    ("Œ", "Cœur d’Alène", "1977", "f"),
    ("æ", "Ærø Æsa", "1980", "f"), ("s", "Straße ẞ", "1990-07-04", "x"),
    ("ł", "Łukasz  Øster", "14/03/1985", "m"),
    ("İ", "İsmail Işık", "1966", "m"), ("n", "Nguyễn Thị Đặng", "1970", "f"),
    ("o", "O'Brien", "1955", "m"),
    ("n", "N’Diaye", "1999", "f"), ("j", "Jean--Pierre   Marie ", " 1977 ", "m"),
    ("ǅ", "ǅemal ﬁlip", "1.2.1980", "m"),
    ("Ｑ", "Ｚｏｒｇｌｕｂｉｘ", "1977", "m"), ("ø", "Søren Kierkegård", "", ""),
    ("", "Ɲɛ Ɔumar", "1988", "x"),
    ("Þ", "Þórr Ðuríð", "1975-1-2", "f"), ("ħ", "Ħaġar Ŧŋ", "", "m"),
    ("a", "A\u0301\u1ab0\u1dc4\u20d7b", "2001", "f"),
    ("e", "Ǿrsted Ŀlull ǰ", "1977", "x"), ("m", "Иван 𝐀lice 🙂 ⑴", "٢٠٠١", "f"),
    ("", "", "1977", "m"),
    ("\u00a0", "\tTab\u2003Em\u00a0nbsp", "77", "m"), ("x", "ª º ¹²³ ʰ", "1977-13-45", "f"),
]


def _open_shift(page):
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")


def _type_code(page, initial, name, birth, sex=None):
    """As a worker: the sex chip, then each input tapped and typed; the cursor stays in the last
    one."""
    if sex:
        page.locator(f"#contact-form label.chip:has(input[name=sex][value={sex}])").tap()
    for field, value in (("pseudo_initial", initial), ("pseudo_name", name),
                         ("pseudo_birth", birth)):
        page.locator(f"[name={field}]").tap()
        page.keyboard.type(value)


def _tap_save(page):
    """One tap on Enregistrer; returns once the server answered the contact's POST."""
    with page.expect_response(lambda r: r.request.method == "POST"
                              and "/encounters" in r.url) as answer:
        page.locator("#contact-save").tap()
    assert answer.value.status == 201, answer.value.text()
    page.wait_for_selector("#contact-form [name=pseudo_name]:not([disabled])")


def _stored_codes(live_app):
    with live_app.app_context():
        db.session.remove()
        return ([c.person.code for c in db.session.execute(
            db.select(Contact).order_by(Contact.created_at)).scalars()])


def _code(live_app, *inputs):
    with live_app.app_context():
        return pseudonym_code(digest_from_inputs(*inputs)[0], live_app.config["PSEUDONYM_KEY"])


def test_one_tap_saves_a_known_person_every_time(page, live_app):
    _open_shift(page)
    persons = [("Q", "Zorglubix", "1977", "m"), ("W", "Quixoteria", "1980", None),
               ("P", "Petit", "1966", "f")]
    for person in persons:
        _type_code(page, *person)
        _tap_save(page)
    assert _stored_codes(live_app) == [_code(live_app, *person) for person in persons]


def test_a_corrected_input_is_the_one_coded(page, live_app):
    _open_shift(page)
    _type_code(page, "P", "Petitt", "1966", "f")
    page.locator("#pseudo-check").tap()
    page.wait_for_selector("#pseudo-status:not(:empty)")
    assert page.locator("[name=digest]").input_value()  # the typo's digest, computed
    page.locator("[name=pseudo_name]").tap()
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    # the typo's "nouvelle personne" is gone too
    assert page.locator("#pseudo-status").text_content() == ""
    _tap_save(page)
    assert _stored_codes(live_app) == [_code(live_app, "P", "Petit", "1966", "f")]


def test_a_sex_chosen_after_checking_is_coded(page, live_app):
    _open_shift(page)
    _type_code(page, "P", "Petit", "1966", "f")
    page.locator("#pseudo-check").tap()
    page.wait_for_selector("#pseudo-status:not(:empty)")
    page.locator("#contact-form label.chip:has(input[name=sex][value=m])").tap()
    _tap_save(page)
    assert _stored_codes(live_app) == [_code(live_app, "P", "Petit", "1966", "m")]


# Every code point as "A" + c + "A": normalisation works character by character (README), so equal
# results here mean equal results for every string.
EVERY_CHARACTER = """() => {
  const out = {}, norm = window.outreachStage1.norm;
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const r = norm("A" + String.fromCodePoint(cp) + "A");
    if (r != "A A") out[cp] = r;
  }
  return out;
}"""


def test_browser_and_server_normalise_every_character_alike(page, live_app):
    _open_shift(page)
    browser = {int(cp): text for cp, text in page.evaluate(EVERY_CHARACTER).items()}
    server = {}
    for cp in range(sys.maxunicode + 1):
        if not 0xD800 <= cp < 0xE000 and (text := normalise("A" + chr(cp) + "A")) != "A A":
            server[cp] = text
    assert browser == server
    assert server[ord("Œ")] == "AOEA" and server[ord("１")] == "A1A" and server[0x301] == "AA"


def _digests_in_page(page):
    """Each corpus entry typed into the form, "Vérifier le code" tapped: the digest the page
    computed."""
    digests = []
    for initial, name, birth, sex in CORPUS:
        for field, value in (("pseudo_initial", initial), ("pseudo_name", name),
                             ("pseudo_birth", birth)):
            page.locator(f"[name={field}]").fill(value)
        page.eval_on_selector_all("#contact-form [name=sex]", "(els, sex) => els.forEach(e => { "
                                                              "e.checked = e.value == sex; })", sex)
        if not (initial.strip() or name.strip() or birth.strip()):
            digests.append(None)
            continue
        page.locator("#pseudo-check").click()
        # (a hidden input's value
        page.wait_for_selector("[name=digest][value]:not([value=''])", state="attached")
        # is its attribute)
        digests.append((page.locator("[name=digest]").input_value(),
                        bool(page.locator("[name=is_weak]").input_value())))
    return digests


def _server_digests(live_app):
    with live_app.app_context():
        return [digest_from_inputs(*inputs) if any(v.strip() for v in inputs[:3]) else None
                for inputs in CORPUS]


def test_browser_and_server_digests_are_equal_for_awkward_names(page, live_app):
    _open_shift(page)
    assert page.evaluate("!!crypto.subtle")  # WebCrypto's PBKDF2
    assert _digests_in_page(page) == _server_digests(live_app)


def test_without_webcrypto_the_fallback_gives_the_same_digests(page, live_app):
    page.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined "
                         "})")
    _open_shift(page)
    assert page.evaluate("crypto.subtle === undefined")
    with page.expect_request("**/static/js/sha256.js"):
        page.locator("[name=pseudo_name]").fill("x")
        page.locator("#pseudo-check").click()
    assert _digests_in_page(page) == _server_digests(live_app)
    for field in ("pseudo_initial", "pseudo_name", "pseudo_birth"):
        page.locator(f"[name={field}]").fill("")
    # and one tap saves it, the digest computed by sha256.js
    _type_code(page, "Q", "Zorglubix", "1977", "m")
    _tap_save(page)
    assert _stored_codes(live_app) == [_code(live_app, "Q", "Zorglubix", "1977", "m")]


# else the worker serves sha256.js from its cache
@pytest.mark.browser_context_args(service_workers="block")
def test_when_the_page_cannot_compute_the_digest_the_server_does(page, live_app):
    """No crypto.subtle and sha256.js unreachable: the tap still saves, as the form without
    JavaScript."""
    page.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined "
                         "})")
    page.route("**/static/js/sha256.js", lambda route: route.abort())
    _open_shift(page)
    _type_code(page, "Œ", "Cœur d’Alène", "１９７７", "f")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/maraude/contacts")) as answer:
        page.locator("#contact-save").tap()
    assert answer.value.status == 302
    assert _stored_codes(live_app) == [_code(live_app, "Œ", "Cœur d’Alène", "1977", "f")]
