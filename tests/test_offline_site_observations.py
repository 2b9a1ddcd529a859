"""Site observations through the phone's queue (issue 21, "Done means"): recorded offline during
a shift, kept on the device, sent once when the network returns (a replay creates nothing), read
by a supervisor on the shift's summary; a refused one stays on /file-attente with its fields in
words."""
import uuid

import pytest
from conftest import browser_login
from playwright.sync_api import expect
from test_offline_browser import _context, _controlled, _until
from test_offline_real import _shift_started_offline_with_one_contact

from outreach.extensions import db
from outreach.models import Sector, User
from outreach.site_models import SiteObservation

pytestmark = pytest.mark.browser
VISITS = ({"site": "stalingrad", "people_seen": 12, "unapproached_men": 3, "syringes_collected": 4,
           "ambiance": "Tendue"},
          {"site": "eole", "people_seen": 7, "unapproached_women": 1, "pipes_collected": 9,
           "ambiance": "Calme"})


@pytest.fixture
def open_shift(live_app, live_server):
    """(base url, shift id, review url, rows of the shift's observations on the server)."""
    from flask import url_for

    from outreach.shifts.services import start_shift
    with live_app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        sector = db.session.execute(db.select(Sector).filter_by(code="stalingrad")).scalar_one()
        shift_id = str(uuid.uuid4())
        start_shift(user, {"id": shift_id, "team_id": user.teams[0].id, "sector_ids": [sector.id],
                           "staff_count": 2, "stock_out": {}})
        db.session.commit()
        with live_app.test_request_context():
            review_url = url_for("review.shift", shift_id=shift_id)

    def rows():
        with live_app.app_context():
            found = db.session.execute(
                db.select(SiteObservation).filter_by(shift_id=shift_id)).scalars().all()
            return sorted((o.site.code, o.people_seen, o.unapproached_men, o.unapproached_women,
                           o.syringes_collected, o.pipes_collected, o.ambiance) for o in found)
    return live_server, shift_id, review_url, rows


def _open_form(page):
    page.goto("/maraude")
    page.locator("#site-observations summary").click()
    expect(page.locator("#site-observation-form")).to_be_visible()


def _observe(page, visit):
    form = page.locator("#site-observation-form")
    value = form.locator(f"option[data-code={visit['site']}]").get_attribute("value")
    form.locator("[name=site_id]").select_option(value)
    for name, number in visit.items():
        if name not in ("site", "ambiance"):
            form.locator(f"[name={name}]").fill(str(number))
    form.locator("label.chip", has_text=visit["ambiance"]).click()
    form.get_by_role("button", name="Enregistrer l'observation").click()


def _offline_on_the_shift_page(playwright, base_url, tmp_path):
    """The worker's phone on the shift page (served by the service worker), the observation form
    open, offline."""
    context = _context(playwright, tmp_path / "worker", base_url)
    page = context.pages[0] if context.pages else context.new_page()
    browser_login(page, "worker@aurore.demo")
    _open_form(page)
    _controlled(page)
    _open_form(page)
    context.set_offline(True)
    return context, page


@pytest.mark.slow
def test_site_observations_recorded_offline_sync_once_and_the_supervisor_reads_them(
        playwright, open_shift, tmp_path):
    base_url, shift_id, review_url, rows = open_shift
    context, page = _offline_on_the_shift_page(playwright, base_url, tmp_path)
    status = page.locator("#sync-status")
    for n, visit in enumerate(VISITS, 1):
        _observe(page, visit)
        expect(status).to_have_text(f"{n} en attente")
        expect(page.locator("#site-observations .offline-notice")).to_contain_text("enregistré sur "
                                                                                   "l'appareil")
        # ready for the next
        expect(page.locator("#site-observation-form [name=people_seen]")).to_have_value("0")
    queued = page.evaluate("outreachQueue.all()")
    assert [(r["type"], r["shiftId"], r["body"]["site"]) for r in queued] == [
        ("observation", shift_id, "stalingrad"), ("observation", shift_id, "eole")]
    assert queued[0]["body"]["id"] != queued[1]["body"]["id"]
    assert rows() == []  # on the device only

    context.set_offline(False)
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    expected = [("eole", 7, 0, 1, 0, 9, "calme"), ("stalingrad", 12, 3, 0, 4, 0, "tendue")]
    assert rows() == expected
    # The answers were lost (say): the phone sends the same two records again; nothing new on the
    # server.
    page.evaluate("""(records) => Promise.all(records.map(
                         r => outreachQueue.add(r.type, r.url, r.body, r.label, r.clock)))
                       .then(() => outreachQueue.sync())""", queued)
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    assert rows() == expected
    context.close()

    context = _context(playwright, tmp_path / "supervisor", base_url)
    page = context.pages[0] if context.pages else context.new_page()
    browser_login(page, "supervisor@aurore.demo")
    page.goto(review_url)
    table = page.locator("#site-observations-table tbody tr")
    expect(table).to_have_count(2)
    expect(table.filter(has_text="Stalingrad")).to_contain_text("12")
    expect(table.filter(has_text="Stalingrad")).to_contain_text("4 / 0")
    expect(table.filter(has_text="Éole")).to_contain_text("0 / 9")
    context.close()


@pytest.mark.slow
def test_site_observation_refused_stays_on_the_queue_page_with_its_field_in_words(
        playwright, open_shift, tmp_path):
    base_url, _shift, _review, rows = open_shift
    context, page = _offline_on_the_shift_page(playwright, base_url, tmp_path)
    page.locator("#site-observation-form").evaluate("f => { f.noValidate = true; }")
    _observe(page, {**VISITS[0], "people_seen": 5000})
    expect(page.locator("#sync-status")).to_have_text("1 en attente")
    context.set_offline(False)
    expect(page.locator("#sync-status")).to_have_text("1 refusé(s)")
    assert rows() == []
    page.goto("/file-attente")
    refused = page.locator(".queue-item.refused")
    expect(refused).to_contain_text("Observation de site")
    expect(refused.locator(".field-error")).to_contain_text("Personnes vues")
    refused.get_by_label("Personnes vues").fill("50")
    refused.get_by_role("button", name="Renvoyer").click()
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    assert [r[:2] for r in rows()] == [("stalingrad", 50)]
    context.close()


def test_site_observation_in_a_shift_started_offline_is_sent_after_its_shift(
        page, live_app, live_server):
    status, shift_id = _shift_started_offline_with_one_contact(page)
    page.locator("#site-observations summary").click()
    _observe(page, VISITS[1])
    expect(status).to_have_text("3 en attente")
    assert page.evaluate("outreachQueue.all().then(rs => rs.map(r => [r.type, r.shiftId]))") == [
        ["shift", shift_id], ["contact", shift_id], ["observation", shift_id]]
    page.context.set_offline(False)
    _until(page, "outreachQueue.all().then(rs => rs.length === 0)")
    with live_app.app_context():
        found = db.session.execute(
            db.select(SiteObservation).filter_by(shift_id=shift_id)).scalars().all()
        assert [(o.site.code, o.people_seen, o.pipes_collected) for o in found] == [("eole", 7, 9)]
