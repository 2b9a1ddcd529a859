"""The phone's queue against the real form and API, both databases (issue 15): contacts of a
shift the supervisor closed meanwhile, refused records shown in words, a phone with a wrong clock
or zone."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from conftest import browser_login
from playwright.sync_api import expect
from test_offline_browser import _until
from test_offline_real import FILL, real  # noqa: F401

from outreach.extensions import db
from outreach.models import Contact, Shift, User
from outreach.shifts.services import close_shift

pytestmark = pytest.mark.browser
EMPTY = "outreachQueue.all().then(rs => rs.length === 0)"
PARIS = ZoneInfo("Europe/Paris")


def _log(page, count, people=1, bad=False, typed=None):
    page.evaluate(FILL, [bad])
    form = page.locator("#contact-form")
    if people != 1:
        form.locator("[name=people_count]").fill(str(people))
    if typed:
        form.locator("[name=occurred_at]").fill(typed)
    page.locator("#contact-save").click()
    expect(page.locator("#sync-status")).to_have_text(f"{count} en attente")


def _shift_id(live_app):
    with live_app.app_context():
        return db.session.execute(db.select(Shift.id)).scalar_one()


def _contacts(live_app, shift_id):
    with live_app.app_context():
        return db.session.execute(db.select(Contact).filter_by(shift_id=shift_id)
                                  .order_by(Contact.people_count)).scalars().all()


def _close_as_supervisor(live_app, shift_id):
    with live_app.app_context():
        supervisor = db.session.execute(
            db.select(User).filter_by(email="supervisor@aurore.demo")).scalar_one()
        close_shift(db.session.get(Shift, shift_id), supervisor, {})
        db.session.commit()


def test_contacts_waiting_when_the_supervisor_closes_the_shift_are_kept_and_flagged(
        page, real, live_app):  # noqa: F811
    """Item 3: all used to be refused "La maraude est close." with the shift's id offered as a
    field. Those made before the close now reach it, flagged for the supervisor; once the shift
    is validated a contact is refused with why, kept on the phone, shown in words, with no
    internal id to edit."""
    _, on_server, page_url = real
    browser_login(page, "worker@aurore.demo")
    page.goto(page_url)
    shift_id = _shift_id(live_app)
    page.context.set_offline(True)
    _log(page, 1, people=3)
    _log(page, 2)
    _close_as_supervisor(live_app, shift_id)
    page.context.set_offline(False)
    _until(page, EMPTY)
    assert [(c.people_count, c.is_late)
            for c in _contacts(live_app, shift_id)] == [(1, True), (3, True)]

    page.context.set_offline(True)
    _log(page, 1, people=2)
    with live_app.app_context():
        db.session.get(Shift, shift_id).status = "validated"
        db.session.commit()
    page.context.set_offline(False)
    expect(page.locator("#sync-status")).to_have_text("1 refusé(s)")
    assert on_server() == 2
    page.goto("/file-attente")
    item = page.locator(".queue-item.refused")
    expect(item).to_contain_text("Passage anonyme · ×2 · ")
    expect(item).to_contain_text("Maraude : La maraude est close et validée")
    expect(item.locator("input")).to_have_count(0)  # nothing to type: never the shift's id
    expect(item.get_by_role("button", name="Supprimer")).to_be_visible()


def test_a_refused_field_is_named_in_words_and_only_numbers_are_editable(
        page, real, live_app):  # noqa: F811
    """Item 11: refused items all read "Nouveau contact · 12:27" and named the field
    `people_count`."""
    browser_login(page, "worker@aurore.demo")
    page.goto(real[2])
    page.context.set_offline(True)
    _log(page, 1, people=4, bad=True)
    page.context.set_offline(False)
    expect(page.locator("#sync-status")).to_have_text("1 refusé(s)")
    page.goto("/file-attente")
    item = page.locator(".queue-item.refused")
    expect(item).to_contain_text(re.compile(r"Passage anonyme · ×4 · \d\d:\d\d · Stalingrad"))
    expect(item.locator(".field-error")).to_contain_text("Secteur : ")
    expect(item.locator("input")).to_have_count(0)


@pytest.fixture
def wrong_phone(browser, playwright, live_server):
    """A phone in New York whose clock is 2 h ahead."""
    context = browser.new_context(**playwright.devices["Pixel 5"], locale="fr-FR",
                                  base_url=live_server, timezone_id="America/New_York")
    page = context.new_page()
    page.clock.install(time=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    yield page
    context.close()


def test_a_phone_two_hours_ahead_in_new_york_stores_paris_times(
        wrong_phone, real, live_app):  # noqa: F811
    """Item 6: 2 h ahead, contacts were refused "Heure hors de la maraude"; in New York a typed time
    was read an hour or more off. The server's clock decides; typed times are Paris times."""
    page = wrong_phone
    browser_login(page, "worker@aurore.demo")
    page.goto(real[2])
    shift_id = _shift_id(live_app)
    typed_at = (dt.datetime.now(PARIS) - dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    page.context.set_offline(True)
    _log(page, 1, people=2)  # no time typed: the phone's (wrong) clock
    _log(page, 2, people=5, typed=typed_at.strftime("%H:%M"))
    labels = page.evaluate("outreachQueue.all().then(rs => rs.map(r => r.label))")
    assert typed_at.strftime("%H:%M") in labels[1]  # the phone shows the Paris time typed
    page.context.set_offline(False)
    _until(page, EMPTY)
    clock_taken, typed = _contacts(live_app, shift_id)
    real_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs(clock_taken.occurred_at
               - real_now) < dt.timedelta(minutes=3), clock_taken.occurred_at
    assert typed.occurred_at == typed_at.astimezone(dt.UTC).replace(tzinfo=None)
