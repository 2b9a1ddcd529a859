"""Offline logging in a real Chromium on a phone: queue, reload offline, reopen the browser, sync.

Runs against a stand-in form and API with the contract's shapes (field names, JSON keys,
201/200-replay/422, session + X-CSRFToken) so the queue is proved on its own;
tests/test_offline_real.py runs the same story against the real form and API.
"""
import threading
import uuid

import pytest
from conftest import CHROMIUM, PATIENCE, browser_login, wait_until
from playwright.sync_api import expect

from outreach.access import Blueprint
from outreach.offline import services

pytestmark = pytest.mark.browser
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

STAND_IN_FORM = """{% extends "base.html" %}{% block content %}
<form id="contact-form" method="post" action="/essai/contact" data-api="/essai/api/encounters"
      class="card">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <input type="hidden" name="id" value="{{ new_id }}">
  <input type="hidden" name="shift_id" value="shift-1">
  <fieldset><legend>Secteur</legend>
    <label class="chip"><input type="radio" name="sector" value="stalingrad"
                               checked>Stalingrad</label>
  </fieldset>
  <input type="hidden" name="kind" value="anonymous">
  <div class="field"><label for="people_count">Nombre de personnes</label>
    <input id="people_count" name="people_count" type="number" value="1"></div>
  <button type="submit" class="primary">Enregistrer le contact</button>
</form>{% endblock %}"""


def _stand_in(app):
    """Register a stand-in form + API on ``app`` (only where the real ones are missing)."""
    from flask import jsonify, render_template_string, request
    store = app.extensions.setdefault("stand_in_encounters", {})
    log = app.extensions.setdefault("stand_in_log", [])
    failures = app.extensions.setdefault("stand_in_failures", [])  # push to answer 503 once
    posts = app.extensions.setdefault("stand_in_posts", [])  # every POST to the encounters API
    # {"seconds": s}: a server busy that long per contact
    slow = app.extensions.setdefault("stand_in_slow", {})
    shifts_seen = set()
    bp = Blueprint("standin", __name__, roles={"worker"}, api=True)

    @bp.route("/essai/contact", methods=["GET", "POST"])
    def contact():
        return render_template_string(STAND_IN_FORM, new_id=str(uuid.uuid4()))

    @bp.route("/essai/api/encounters", methods=["POST"])
    def encounters():
        data = request.get_json()
        posts.append(data["id"])
        if slow.get("seconds"):
            threading.Event().wait(slow["seconds"])
        if data["id"] in store:
            return jsonify(store[data["id"]]), 200
        log.append(("contact", data["id"]))
        if data["shift_id"].startswith("queued-") and data["shift_id"] not in shifts_seen:
            return jsonify(errors={"shift_id": "Maraude inconnue."}), 422
        if data.get("people_count", 0) < 1:
            return jsonify(
                errors={"people_count": "Le nombre de personnes doit être au moins 1."}), 422
        store[data["id"]] = {"id": data["id"], "shift_id": data["shift_id"], "kind": data["kind"],
                             "people_count": data["people_count"]}
        return jsonify(store[data["id"]]), 201
    @bp.route("/essai/api/shifts", methods=["POST"])
    def shifts():
        data = request.get_json()
        log.append(("shift", data["id"]))
        if data.get("staff_count", 1) < 1:
            return jsonify(errors={"staff_count": "Au moins une personne."}), 422
        shifts_seen.add(data["id"])
        return jsonify(id=data["id"]), 201

    @bp.before_request
    def fail_sometimes():
        if failures and request.method == "POST":
            failures.pop()
            return jsonify(error="indisponible"), 503
        return None
    app.register_blueprint(bp)
    return store


@pytest.fixture
def server(live_app, live_server, monkeypatch):
    """(base_url, count_of_contacts_on_server, contact_page_url); the stand-in form is a logging
    page like the real one, so opening it signed in caches the signed-in pages for offline use."""
    monkeypatch.setattr(services, "SHELL_ENDPOINTS", (*services.SHELL_ENDPOINTS, "standin.contact"))
    store = _stand_in(live_app)
    return live_server, lambda: len(store), "/essai/contact"


def _context(playwright, user_dir, base_url):
    """A browser with a profile on disk: closing and reopening it keeps IndexedDB and the worker."""
    phone = {k: v for k, v in playwright.devices["Pixel 5"].items() if k != "default_browser_type"}
    context = playwright.chromium.launch_persistent_context(
        str(user_dir), executable_path=CHROMIUM, args=LAUNCH_ARGS, **phone, locale="fr-FR",
        base_url=base_url)
    context.set_default_timeout(PATIENCE * 1000)
    return context


def _controlled(page):
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _warmed(page):
    """Wait until the worker has cached the signed-in offline page (the one showing the queue)."""
    _until(page, "caches.open('outreach-pages').then(c => c.match('/hors-ligne'))"
                 ".then(r => r ? r.text() : '').then(t => t.includes('data-user'))")


def _log_contact(page, people_count=1):
    page.fill("#people_count", str(people_count))
    page.get_by_role("button", name="Enregistrer le contact").click()


def _until(page, expression):
    """Until an async expression holds (wait_for_function does not await promises)."""
    wait_until(page, lambda: page.evaluate(expression), expression)


def _queued(page):
    return page.evaluate("outreachQueue.all().then(rs => rs.length)")


@pytest.mark.slow
def test_twenty_contacts_offline_survive_reload_reopen_and_a_worker_update(
        playwright, server, tmp_path, monkeypatch):
    base_url, on_server, form_url = server
    user_dir = tmp_path / "profile"
    context = _context(playwright, user_dir, base_url)
    page = context.pages[0] if context.pages else context.new_page()
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    _controlled(page)
    _warmed(page)
    context.set_offline(True)
    status = page.locator("#sync-status")
    for n in range(1, 21):
        _log_contact(page, people_count=0 if n == 7 else 1)
        expect(status).to_have_text(f"{n} en attente")
    expect(page.locator(".offline-notice")).to_contain_text("enregistré sur l'appareil")
    page.reload()  # offline: served by the service worker
    expect(page.locator("#contact-form")).to_be_visible()
    expect(status).to_have_text("20 en attente")
    page.goto("/mot-de-passe")  # never visited: the offline page answers, with the queue count
    expect(page.get_by_role("heading", name="Hors ligne")).to_be_visible()
    expect(status).to_have_text("20 en attente")
    page.goto(form_url)
    queued = page.evaluate("outreachQueue.all()")
    assert all("pseudo_name" not in r["body"] for r in queued)
    assert len({r["id"] for r in queued}) == 20
    context.close()

    context = _context(playwright, user_dir, base_url)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(form_url)
    expect(page.locator("#sync-status")).to_have_text("20 en attente")
    # a new service worker version with records queued (API unreachable meanwhile) loses nothing
    context.route("**/essai/api/encounters", lambda route: route.abort())
    context.set_offline(False)
    old_caches = page.evaluate("caches.keys()")
    monkeypatch.setattr(services, "static_version", lambda: "bumped-version")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    _until(page, "caches.keys().then(k => k.includes('outreach-shell-bumped-version'))")
    _until(page,
           "caches.keys().then(k => k.filter(n => n.startsWith('outreach-shell-')).length === 1)")
    assert [k for k in old_caches
            if k.startswith("outreach-shell-")] != ["outreach-shell-bumped-version"]
    assert _queued(page) == 20
    assert on_server() == 0

    context.unroute("**/essai/api/encounters")
    page.evaluate("outreachQueue.sync()")
    expect(page.locator("#sync-status")).to_have_text("1 refusé(s)")
    assert on_server() == 19
    page.goto("/file-attente")
    refused = page.locator(".queue-item.refused")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("refusé")
    expect(refused).to_contain_text("Le nombre de personnes doit être au moins 1.")

    # replaying the whole queue again creates nothing
    sent = [r for r in queued if r["body"]["people_count"] == 1]
    page.evaluate("rs => Promise.all(rs.map(r => outreachQueue.add(r.type, r.url, r.body, "
                  "r.label)))", sent)
    page.evaluate("outreachQueue.sync()")
    _until(page, "outreachQueue.all().then(rs => rs.length === 1)")
    assert on_server() == 19

    # fix the refused one from the queue page: it goes through
    refused.get_by_label("Nombre de personnes").fill("2")
    refused.get_by_role("button", name="Renvoyer").click()
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    assert on_server() == 20
    context.close()


def test_logout_warns_then_clears_the_device(page, server):
    form_url = server[2]
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    _controlled(page)
    page.context.set_offline(True)
    _log_contact(page)
    expect(page.locator("#sync-status")).to_have_text("1 en attente")
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Se déconnecter").click()
    wait_until(page, lambda: dialogs, "the logout warning")
    assert "1 enregistrement" in dialogs[0]
    assert _queued(page) == 1  # refused: nothing erased
    page.context.set_offline(False)
    page.context.route("**/essai/api/encounters", lambda route: route.abort())
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    assert _queued(page) == 0
    cached = page.evaluate("caches.open('outreach-pages').then(c => c.keys()).then(ks => ks.map(k "
                           "=> k.url))")
    assert not [url for url in cached if form_url in url]


def _session_ends_with_records_queued(page, form_url, count):
    """The demo worker queues ``count`` contacts offline, then its session ends; the network
    returns."""
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    _controlled(page)
    page.context.set_offline(True)
    for _ in range(count):
        _log_contact(page)
    expect(page.locator("#sync-status")).to_have_text(f"{count} en attente")
    page.context.clear_cookies()  # the session ends while the phone is offline
    page.context.set_offline(False)


def test_session_expired_offline_keeps_the_queue_until_login(page, server):
    _, on_server, form_url = server
    _session_ends_with_records_queued(page, form_url, 3)
    expect(page.locator("#sync-status")).to_have_text("3 en attente · reconnectez-vous pour "
                                                      "envoyer")
    assert _queued(page) == 3 and on_server() == 0
    browser_login(page, "worker@aurore.demo")
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    assert on_server() == 3


def test_online_a_refused_contact_shows_its_error_on_the_form(page, server):
    _, on_server, form_url = server
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    first_id = page.locator("input[name=id]").input_value()
    _log_contact(page, people_count=0)
    expect(page.locator("#contact-form .field-error")).to_have_text("Le nombre de personnes doit "
                                                                    "être au moins 1.")
    assert _queued(page) == 0 and on_server() == 0
    _log_contact(page, people_count=1)
    expect(page.locator(".offline-notice")).to_have_text("Contact enregistré.")
    expect(page.locator("#contact-form .field-error")).to_have_count(0)
    assert on_server() == 1 and _queued(page) == 0
    # the next contact gets a new id
    assert page.locator("input[name=id]").input_value() != first_id
    expect(page.locator("#sync-status")).to_be_hidden()


ORDER_JS = """() => {
  const c = (id, shift) => ({id: id, shift_id: shift, kind: 'anonymous', sector: 'stalingrad',
                             people_count: 1});
  const q = window.outreachQueue, add = (t, url, b) => q.add(t, url, b, t);
  return add('contact', '/essai/api/encounters', c('c1', 'queued-bad'))
    .then(() => add('shift', '/essai/api/shifts', {id: 'queued-good', staff_count: 2}))
    .then(() => add('contact', '/essai/api/encounters', c('c2', 'queued-good')))
    .then(() => add('shift', '/essai/api/shifts', {id: 'queued-bad', staff_count: 0}))
    .then(() => add('contact', '/essai/api/encounters', c('c3', 'queued-bad')))
    .then(() => add('close', '/essai/api/shifts/queued-bad/close',
                    {ended_at: '2026-01-01T23:00:00Z'}))
    .then(() => add('contact', '/essai/api/encounters', c('c4', 'shift-1')));
}"""


def test_order_kept_and_a_refused_shift_holds_only_its_own_records(page, server, live_app):
    _, on_server, form_url = server
    log = live_app.extensions["stand_in_log"]
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    page.context.set_offline(True)
    page.evaluate(ORDER_JS)
    page.context.set_offline(False)
    page.evaluate("outreachQueue.sync()")
    assert ("shift",
            "queued-good") in log and log.index(("shift",
                                                 "queued-good")) < log.index(("contact", "c2"))
    assert ("contact", "c3") not in log  # its shift was refused: it waits, it is not sent to fail
    assert on_server() == 2  # c2 and c4; c1 was queued before its (refused) shift
    left = {r["id"] or r["type"]: r["state"] for r in page.evaluate("outreachQueue.all()")}
    # held too
    assert left == {"c1": "refused", "queued-bad": "refused", "c3": "queued", "close": "queued"}


def test_a_server_error_is_retried_with_backoff(page, server, live_app):
    _, on_server, form_url = server
    browser_login(page, "worker@aurore.demo")
    page.goto(form_url)
    page.context.set_offline(True)
    _log_contact(page)
    expect(page.locator("#sync-status")).to_have_text("1 en attente")
    failures = live_app.extensions["stand_in_failures"]
    failures.append(1)
    page.context.set_offline(False)
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    # the first try got the 503; the record stayed queued and went on the retry
    assert failures == []
    assert on_server() == 1
