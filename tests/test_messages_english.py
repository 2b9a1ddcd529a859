"""Validation messages raised by the services and forms follow the interface language: English
with the `lang=en` cookie, French (the source text) without it; the write API stays French by
default."""
import datetime as dt

import pytest

from outreach.extensions import db
from outreach.indicators.services import month_label
from outreach.models import User
from outreach.security import new_api_token

BAD_CONTACTS = [
    ({"kind": "anonymous", "people_count": "0"}, "Number of people between 1 and 500.",
     "Nombre de personnes entre 1 et 500."),
    ({"kind": "anonymous", "occurred_at": "25:99"}, "Invalid time (HH:MM).",
     "Heure invalide (HH:MM)."),
    ({"kind": "anonymous", "people_count": "many"}, "Whole number expected.",
     "Nombre entier attendu."),
]


def _worker_team(app):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        return user.teams[0].code


def _start_shift(app, client):
    response = client.post("/maraude", data={"team": _worker_team(app), "staff_count": "2"})
    assert response.status_code == 302


@pytest.mark.parametrize("form, english, french", BAD_CONTACTS)
def test_contact_form_errors_follow_the_language(app, client, login, form, english, french):
    login("worker@aurore.demo")
    _start_shift(app, client)
    response = client.post("/maraude/contacts", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and french in page and english not in page
    client.set_cookie("lang", "en")
    response = client.post("/maraude/contacts", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and english in page and french not in page


def test_shift_start_error_in_english(client, login):
    client.set_cookie("lang", "en")
    login("worker@aurore.demo")
    response = client.post("/maraude", data={"team": "nobody_s_team", "staff_count": "2"})
    assert (response.status_code == 422
            and "Choose one of your teams." in response.get_data(as_text=True))


def test_api_errors_stay_french_by_default_and_follow_the_cookie(app, client):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        headers = {"Authorization": "Bearer " + new_api_token(user)}
        db.session.commit()
    body = {"id": "6f1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6b", "team": 5, "staff_count": 3}
    response = client.post("/api/v1/shifts", json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"team": "Code d'équipe "
                                                                               "attendu."}
    client.set_cookie("lang", "en")
    response = client.post("/api/v1/shifts", json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"] == {"team": "Team code "
                                                                               "expected."}


def test_month_labels_follow_the_language(app):
    january, august = dt.date(2026, 1, 1), dt.date(2026, 8, 1)
    with app.test_request_context():
        assert (month_label(january), month_label(august)) == ("janv. 2026", "août 2026")
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert (month_label(january), month_label(august)) == ("Jan 2026", "Aug 2026")
    with app.app_context():  # outside a request (CLI exports): French, as before
        assert month_label(january) == "janv. 2026"
