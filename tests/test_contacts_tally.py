"""The tally (compteur) of issue 16 item 2, on the server: one tap one record, each idempotent (a
resent form or a replayed record adds nothing), a running total on the page, undo; without
JavaScript."""

import re
import uuid

import pytest

from outreach.extensions import db
from outreach.models import Contact, User


@pytest.fixture
def shift_page(app, client, login):
    login("worker@aurore.demo")
    with app.app_context():
        team = (
            db.session.execute(db.select(User).filter_by(email="worker@aurore.demo"))
            .scalar_one()
            .teams[0]
            .code
        )
    assert client.post("/maraude", data={"team": team}).status_code == 302

    def tap(**fields):
        html = client.get("/maraude/compteur").get_data(as_text=True)
        form = html[html.index('id="tally-form"') :]
        form = form[: form.index("</form>")]
        data = {
            "id": str(uuid.uuid4()),
            "group": re.search(r'name="group" value="([^"]*)"', form).group(1),
        }
        data.update(fields)
        answer = client.post("/maraude/compteur", data=data)
        assert answer.status_code == 302, answer.get_data(as_text=True)[:400]
        return data

    return tap


def _contacts(app):
    with app.app_context():
        return sorted(
            (c.kind, c.people_count, sum(m.quantity for m in c.materials))
            for c in db.session.execute(db.select(Contact)).scalars()
        )


def _totals(client):
    html = client.get("/maraude/compteur").get_data(as_text=True)
    return {k: int(v) for k, v in re.findall(r'data-total="(\w+)">(\d+)<', html)}, html


def test_a_group_of_four_with_four_kits_is_two_taps_and_a_resent_form_adds_nothing(
    app, client, shift_page
):
    first = shift_page(people="4")
    client.post("/maraude/compteur", data=first)  # the same form again (a double tap, a resend)
    html = client.get("/maraude/compteur").get_data(as_text=True)
    each = re.search(r'<button name="quantity" value="(\d+)" data-each', html).group(1)
    assert each == "4"
    shift_page(quantity=each)
    shift_page(quantity=each)  # "one each" again: still 4 kits, a set, not an add
    assert _contacts(app) == [("anonymous", 4, 4)]
    totals, html = _totals(client)
    assert totals == {"people": 4, "given": 4, "refusals": 0}
    assert "Enregistré." in html


def test_a_refusal_is_one_tap_and_undo_takes_back_the_last_tap_only(app, client, shift_page):
    shift_page(kind="refusal")
    shift_page(people="2")
    html = client.get("/maraude/compteur").get_data(as_text=True)
    more = re.search(r'<button name="people_count" value="(\d+)"', html).group(1)
    shift_page(people_count=more)
    assert _contacts(app) == [("anonymous", 3, 0), ("refusal", 1, 0)]
    shift_page(undo="1")
    assert _contacts(app) == [("anonymous", 2, 0), ("refusal", 1, 0)]
    totals, html = _totals(client)
    assert totals == {"people": 2, "given": 0, "refusals": 1} and "Annulé." in html


def test_a_kit_without_a_group_counts_a_passage_of_one_with_its_kit(app, client, shift_page):
    shift_page(quantity="1")
    assert _contacts(app) == [("anonymous", 1, 1)]


def test_a_replayed_set_changes_nothing_and_a_removal_sent_twice_is_answered_both_times(
    app, client, shift_page
):
    shift_page(people="3")
    with app.app_context():
        group = db.session.execute(db.select(Contact.id)).scalar_one()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/maraude/compteur").get_data(as_text=True)
    ).group(1)
    headers = {"X-CSRFToken": token}
    body = {"people_count": 5, "material": "kit_base", "quantity": 2}
    for _ in range(2):
        answer = client.post(f"/maraude/compteur/{group}", json=body, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    assert _contacts(app) == [("anonymous", 5, 2)]
    assert (
        client.post(
            f"/maraude/compteur/{group}", json={"material": "nope", "quantity": 1}, headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/maraude/compteur/{group}", json={"people_count": 0}, headers=headers
        ).status_code
        == 422
    )
    for _ in range(2):
        assert (
            client.post(
                f"/maraude/compteur/{group}", json={"removed": True}, headers=headers
            ).status_code
            == 200
        )
    assert _contacts(app) == []
    assert (
        client.post(
            f"/maraude/compteur/{group}", json={"people_count": 2}, headers=headers
        ).status_code
        == 404
    )
