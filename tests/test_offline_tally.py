"""The tally offline (issue 16 item 2), on a phone in Chromium, tested like contacts: taps with no
network wait on the device with the totals moved at once, survive a reload offline, are sent in
order when the network returns, and sending every record again (a replay) leaves the same contacts
on the server."""

import pytest
from conftest import browser_login
from playwright.sync_api import expect
from test_offline_browser import _controlled, _queued, _until

from outreach.extensions import db
from outreach.models import Contact

pytestmark = pytest.mark.browser


def _on_server(live_app):
    with live_app.app_context():
        return sorted(
            (c.kind, c.people_count, sum(m.quantity for m in c.materials))
            for c in db.session.execute(db.select(Contact)).scalars()
        )


def _tap(page, name, value):
    page.locator(
        f"#tally-form button[name={name}]"
        + ("[data-each]" if value == "each" else f"[value='{value}']")
    ).tap()


REPLAY = """async (records) => {
  const asked = await outreachQueue._.request('/file-attente/jeton',
                                              {headers: {Accept: 'application/json'}});
  const token = asked.json.csrf_token;
  const statuses = [];
  for (const r of records) {
    statuses.push((await outreachQueue._.post(r.url, r.body, token, r.clock)).status);
  }
  return statuses;
}"""


def test_tally_taps_offline_are_kept_sent_once_and_a_replay_adds_nothing(page, live_app):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").tap()
    page.wait_for_selector("#contact-form")
    page.locator("#tally-link").tap()
    page.wait_for_selector("#tally-form")
    _controlled(page)
    page.context.set_offline(True)
    for name, value in (
        ("people", "4"),
        ("quantity", "each"),
        ("kind", "refusal"),
        ("people", "2"),
        ("people_count", "3"),
        ("undo", "1"),
        ("undo", "1"),
    ):
        _tap(page, name, value)
    expect(page.locator("#tally-said")).to_contain_text("enregistré sur l'appareil")
    expect(page.locator("#tally-totals")).to_have_text(
        "Passages : 4 pers. · Kit base : 4 · Refus : 1"
    )
    _until(page, "outreachQueue.all().then(rs => rs.length === 7)")
    records = page.evaluate("outreachQueue.all()")
    page.reload()  # offline: the page from the device, the records still there
    expect(page.locator("#sync-status")).to_have_text("7 en attente")
    assert _on_server(live_app) == []

    page.context.set_offline(False)
    page.evaluate("dispatchEvent(new Event('online'))")
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    assert _on_server(live_app) == [("anonymous", 4, 4), ("refusal", 1, 0)]
    assert all(status == 200 for status in page.evaluate(REPLAY, records[:3])), (
        "a replay is answered as stored"
    )
    assert _on_server(live_app) == [("anonymous", 4, 4), ("refusal", 1, 0)]
    assert _queued(page) == 0
