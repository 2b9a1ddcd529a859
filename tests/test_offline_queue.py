"""The queue's promises on a real phone browser (issue 15), against the stand-in API of
test_offline_browser: whose records a logout erases, a fix typed during a sync, two tabs, a
request held open, a full storage, the digest after the send. README, "La file d'attente"."""
import pytest
from conftest import browser_login
from playwright.sync_api import expect
from test_offline_browser import (  # noqa: F401
    _log_contact,
    _queued,
    _session_ends_with_records_queued,
    _until,
    server,
)

from outreach.extensions import db
from outreach.models import User

pytestmark = pytest.mark.browser
EMPTY = "outreachQueue.all().then(rs => rs.length === 0)"
ADD = """([n, people, shift]) => {
  const q = window.outreachQueue, out = [];
  let chain = Promise.resolve();
  for (let i = 0; i < n; i++) chain = chain.then(() => {
    const body = {id: q.uuid(), shift_id: shift || 'shift-1', kind: 'anonymous',
                  sector: 'stalingrad', people_count: people};
    out.push(body.id);
    return q.add('contact', '/essai/api/encounters', body, 'Passage anonyme');
  });
  return chain.then(() => out);
}"""


def _second_worker(live_app, email="other-worker@aurore.demo"):
    with live_app.app_context():
        model = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        db.session.add(User(email=email, role="worker", organisation_id=model.organisation_id,
                            teams=list(model.teams), password_hash=model.password_hash))
        db.session.commit()
    return email


def _logout(page):
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")


def test_another_workers_logout_keeps_the_records_of_the_first(
        page, server, live_app):  # noqa: F811
    """Item 1: worker A's session ends with records queued; worker B logs in on the same phone, then
    out: A's records stay, every page says whose they are, and they go once A logs in again."""
    _, on_server, form_url = server
    other = _second_worker(live_app)
    _session_ends_with_records_queued(page, form_url, 3)
    browser_login(page, other)
    page.goto(form_url)
    waiting = "3 enregistrement(s) de worker@aurore.demo attendent sur cet appareil"
    expect(page.locator("#queue-others")).to_contain_text(waiting)
    expect(page.locator("#sync-status")).to_be_hidden()  # B has nothing of its own to send
    _logout(page)
    expect(page.locator("#queue-others")).to_contain_text(waiting)  # on the login page too
    expect(page.locator("#queue-others")).to_contain_text("worker@aurore.demo doit s'y connecter")
    assert _queued(page) == 3 and on_server() == 0
    browser_login(page, "worker@aurore.demo")
    _until(page, EMPTY)
    assert on_server() == 3
    expect(page.locator("#queue-others")).to_be_hidden()


def test_a_logout_erases_only_its_own_users_records_after_saying_so(
        page, server, live_app):  # noqa: F811
    form_url = server[2]
    other = _second_worker(live_app)
    _session_ends_with_records_queued(page, form_url, 1)
    browser_login(page, other)
    page.goto(form_url)
    page.context.set_offline(True)
    _log_contact(page)
    _log_contact(page)
    expect(page.locator("#sync-status")).to_have_text("2 en attente")
    # B's records cannot go
    page.context.route("**/essai/api/encounters", lambda route: route.abort())
    page.context.set_offline(False)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    assert _queued(page) == 1
    assert "2 enregistrement(s)" in dialogs[0]
    assert page.evaluate("outreachQueue.all().then(rs => rs[0].who)") == "worker@aurore.demo"


def test_a_fix_typed_during_a_sync_is_stored_as_typed_even_with_a_second_tab(
        page, server, live_app):  # noqa: F811
    """Item 2: a worker types a fixed people count into a refused record while ten others are
    being sent and the logging page, open in a second tab, syncs its own stale copy of the queue.
    Ten times: each stored with the number typed."""
    _, on_server, form_url = server
    store, slow = live_app.extensions["stand_in_encounters"], live_app.extensions["stand_in_slow"]
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    logging_tab = page.context.new_page()
    logging_tab.goto(form_url)
    page.goto("/file-attente")
    for n in range(10):
        slow["seconds"] = 0
        page.context.set_offline(True)
        bad = page.evaluate(ADD, [1, 0, None])[0]
        page.evaluate(ADD, [10, 1, None])
        page.context.set_offline(False)
        slow["seconds"] = 0.08  # each contact takes the server a moment: the fix is typed meanwhile
        page.evaluate("outreachQueue.sync(); null")
        logging_tab.evaluate("outreachQueue.sync(); null")
        item = page.locator(f".queue-item.refused[data-id='{bad}']")
        field = item.locator("input[name=people_count]")
        field.click()
        page.keyboard.press("Control+A")
        typed = str(20 + n)
        page.keyboard.type(typed, delay=40)
        item.get_by_role("button", name="Renvoyer").click()
        _until(page, EMPTY)
        assert store[bad]["people_count"] == int(typed), (n, store[bad])
    assert on_server() == 10 * 11


def test_two_tabs_send_the_queue_once(page, server, live_app):  # noqa: F811
    """Item 11: each tab used to send the whole queue (62 requests for 31 records); one syncs at
    a time."""
    _, on_server, form_url = server
    posts = live_app.extensions["stand_in_posts"]
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    other_tab = page.context.new_page()
    other_tab.goto(form_url)
    page.context.set_offline(True)
    page.evaluate(ADD, [31, 1, None])
    page.context.set_offline(False)
    live_app.extensions["stand_in_slow"]["seconds"] = 0.02
    page.evaluate("outreachQueue.sync(); null")
    other_tab.evaluate("outreachQueue.sync()")
    _until(page, EMPTY)
    page.evaluate("outreachQueue.sync()")
    assert on_server() == 31 and len(posts) == 31


def test_a_request_held_open_times_out_and_the_record_goes_on_a_retry(page, server):  # noqa: F811
    """Item 7: one answer held open froze the queue; each request now gives up and is retried."""
    _, on_server, form_url = server
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    # a short network timeout for the test (20 s on phones)
    page.evaluate("outreachQueue.timeout = 1500")
    held = []

    def hold_first(route):
        if held:
            return route.continue_()
        held.append(route)  # never answered: a server that holds the response open

    page.context.route("**/essai/api/encounters", hold_first)
    page.context.set_offline(True)
    _log_contact(page)
    expect(page.locator("#sync-status")).to_have_text("1 en attente")
    page.context.set_offline(False)
    page.evaluate("outreachQueue.sync(); null")
    _until(page, EMPTY)
    assert len(held) == 1 and on_server() == 1


def test_a_full_storage_says_nothing_was_saved_and_keeps_the_form(page, server):  # noqa: F811
    """Item 8: with the device storage full, the tap used to save nothing and leave the previous
    notice."""
    _, _, form_url = server
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    page.context.set_offline(True)
    _log_contact(page)
    notice = page.locator(".offline-notice")
    expect(notice).to_contain_text("enregistré sur l'appareil")
    page.evaluate("""() => { IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }; }""")
    page.locator("#people_count").fill("7")
    page.get_by_role("button", name="Enregistrer le contact").click()
    expect(notice).to_contain_text("NON enregistré : la mémoire de l'appareil est pleine")
    expect(notice).to_have_attribute("role", "alert")
    assert page.locator("#people_count").input_value() == "7"
    assert _queued(page) == 1


def test_an_acknowledged_records_digest_is_overwritten_before_it_is_deleted(
        page, server):  # noqa: F811
    """Item 9: after the sync the stage-1 digest stayed readable in IndexedDB's files. The record
    the server has is first written back with its digest overwritten, then deleted (what
    Chromium's own files keep of earlier writes until it compacts them is out of the page's
    reach: README)."""
    _, on_server, form_url = server
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    digest = "5eed" * 16
    page.evaluate("""() => {
      window.lastWrite = {};
      const put = IDBObjectStore.prototype.put, del = IDBObjectStore.prototype.delete;
      IDBObjectStore.prototype.put = function (rec) {
        window.lastWrite[rec.seq] = JSON.stringify(rec);
        return put.apply(this, arguments);
      };
      IDBObjectStore.prototype.delete = function (seq) {
        window.deleted = (window.deleted || []).concat([window.lastWrite[seq]]);
        return del.apply(this, arguments);
      };
    }""")
    page.context.set_offline(True)
    page.evaluate("""d => outreachQueue.add('contact', '/essai/api/encounters',
      {id: outreachQueue.uuid(), shift_id: 'shift-1', kind: 'known', people_count: 1,
       person: {digest: d, weak: false}}, 'Personne')""", digest)
    page.context.set_offline(False)
    page.evaluate("outreachQueue.sync()")
    _until(page, EMPTY)
    assert on_server() == 1
    deleted = page.evaluate("window.deleted")
    assert len(deleted) == 1 and digest not in deleted[0] and "0" * 64 in deleted[0]
