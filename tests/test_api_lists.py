"""What an integrator needs without scraping a page: the ids of the referrals and orientations an
encounter created, and the lists of one's own shifts, encounters and referrals, filtered by codes
and paginated."""
import base64
import json

import pytest
from test_api_write import SHIFT_ID, _token, encounter_body, shift_body

from outreach.extensions import db
from outreach.models import User


@pytest.fixture
def worker(app):
    return {"Authorization": "Bearer " + _token(app, "worker@aurore.demo")}


@pytest.fixture
def night(app, client, worker):
    """One shift of aurore_nord with five encounters, 22:00 to 22:40; the second one refers and
    orients."""
    assert client.post("/api/v1/shifts", json=shift_body(sectors=["stalingrad"]),
                       headers=worker).status_code == 201
    ids = []
    for minute in range(0, 50, 10):
        extra = {"referrals": [{"programme": "assore"}], "orientations": [
            {"destination": "csapa", "accompanied": True}]} if minute == 10 else {}
        fields = {"occurred_at": f"2026-11-27T22:{minute:02d}:00Z", "sector": "stalingrad",
                  "person": {"digest": f"{minute:064x}", "weak": False}, **extra}
        if minute == 40:
            fields.update(kind="anonymous", person=None)
        body = encounter_body(**fields)
        response = client.post("/api/v1/encounters", json=body, headers=worker)
        assert response.status_code == 201, response.json
        ids.append(body["id"])
    return ids


def test_an_encounter_returns_the_ids_of_what_it_created_and_the_steps_use_them(
        client, worker, night):
    created = client.get(f"/api/v1/encounters/{night[1]}", headers=worker).json
    [referral] = created["referrals"]
    [orientation] = created["orientations"]
    assert referral["programme"] == "assore" and referral["status"] == "proposed"
    assert orientation["destination"] == "csapa" and orientation["accompanied"] is True
    assert isinstance(orientation["id"], int)
    step = client.post(referral["steps_url"], headers=worker,
                       json={"status": "accepted", "occurred_on": "2026-11-28"})
    assert (step.status_code == 201 and step.json["id"] == referral["id"]
            and step.json["status"] == "accepted")
    replay = client.post("/api/v1/encounters", headers=worker, json=encounter_body(
        id=night[1], occurred_at="2026-11-27T22:10:00Z", sector="stalingrad",
        person={"digest": f"{10:064x}", "weak": False}, referrals=[{"programme": "assore"}]))
    assert replay.status_code == 200 and replay.json["referrals"][0]["id"] == referral["id"]


def _all_pages(client, headers, url, query):
    """Every item, following ``next``; the pages seen."""
    items, pages, response = [], 0, client.get(url, headers=headers, query_string=query)
    while True:
        assert response.status_code == 200, response.json
        items += response.json["items"]
        pages += 1
        if response.json["next"] is None:
            return items, pages
        response = client.get(response.json["next"], headers=headers)


def test_encounters_are_listed_newest_first_page_after_page(client, worker, night):
    items, pages = _all_pages(client, worker, "/api/v1/encounters", {"limit": 2})
    assert [i["id"] for i in items] == night[::-1] and pages == 3
    everything = client.get("/api/v1/encounters", headers=worker).json
    assert [i["id"] for i in everything["items"]] == night[::-1] and everything["next"] is None
    referred = next(i for i in items if i["id"] == night[1])
    assert referred["referrals"][0]["programme"] == "assore"


def test_a_page_is_not_shifted_by_a_row_written_meanwhile(client, worker, night):
    first = client.get("/api/v1/encounters", headers=worker, query_string={"limit": 2}).json
    late = encounter_body(occurred_at="2026-11-27T23:50:00Z",
                          person={"digest": "e" * 64, "weak": False})
    assert client.post("/api/v1/encounters", json=late, headers=worker).status_code == 201
    second = client.get(first["next"], headers=worker).json
    assert [i["id"] for i in first["items"] + second["items"]] == night[::-1][:4]


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": "anonymous"}, [4]), ({"kind": "known", "limit": 1}, [3]),
    ({"team": "aurore_nord", "sector": "stalingrad", "from": "2026-11", "to": "2026-11-27"},
     [4, 3, 2, 1, 0]),
    ({"to": "2026-11-26"}, []), ({"from": "2026-11-28"}, []), ({"team": "aurore_est"}, []),
    ({"shift": SHIFT_ID, "organisation": "aurore"}, [4, 3, 2, 1, 0]),
    # an id no shift can have (before, its NUL byte was dropped and the shift's encounters listed)
    ({"shift": SHIFT_ID + "\x00"}, []), ({"shift": SHIFT_ID + "0" * 100}, []),
    ({"organisation": "gaia"}, [])])
def test_encounter_filters(client, worker, night, query, expected):
    response = client.get("/api/v1/encounters", headers=worker, query_string=query)
    assert response.status_code == 200
    assert [i["id"] for i in response.json["items"]] == [night[i] for i in expected]


def _cursor(row_id):
    text = json.dumps(["2026-11-27T22:00:00", row_id]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@pytest.mark.parametrize(
    "query", [{"team": "nord"}, {"sector": "nowhere"}, {"kind": "person"}, {"limit": "0"},
              {"limit": "201"}, {"cursor": "not-a-cursor"}, {"from": "2026-11-31"},
              {"cursor": "WyJ4Il0"}, {"from": "27/11/2026"},
              # a cursor whose id no row can have: a NUL byte, over 100 characters
              {"cursor": _cursor("a\x00b")}, {"cursor": _cursor("a" * 101)}])
def test_a_refused_list_argument_is_400_naming_it(client, worker, night, query):
    for url in ("/api/v1/encounters", "/api/v1/shifts", "/api/v1/referrals"):
        if "kind" in query and url != "/api/v1/encounters":
            continue
        response = client.get(url, headers=worker, query_string=query)
        assert (response.status_code == 400
                and set(response.json["errors"]) == set(query)), (url, response.json)
    reversed_ = client.get("/api/v1/shifts", headers=worker,
                           query_string={"from": "2026-11-28", "to": "2026-11-27"})
    assert reversed_.status_code == 400 and set(reversed_.json["errors"]) == {"from", "to"}


def test_shifts_and_referrals_lists(app, client, worker, night):
    shifts = client.get("/api/v1/shifts", headers=worker,
                        query_string={"state": "open", "sector": "stalingrad"}).json
    assert [s["id"]
            for s in shifts["items"]] == [SHIFT_ID] and shifts["items"][0]["team"] == "aurore_nord"
    assert client.get("/api/v1/shifts", headers=worker,
                      query_string={"state": "validated"}).json["items"] == []
    referrals = client.get("/api/v1/referrals", headers=worker,
                           query_string={"state": "proposed"}).json["items"]
    assert [(r["contact_id"], r["programme"], r["team"])
            for r in referrals] == [(night[1], "assore", "aurore_nord")]
    assert client.get("/api/v1/referrals", headers=worker,
                      query_string={"state": "admitted"}).json["items"] == []


def test_another_organisation_sees_none_of_it(app, client, night):
    gaia = {"Authorization": "Bearer " + _token(app, "worker@gaia.demo")}
    for url in ("/api/v1/encounters", "/api/v1/shifts", "/api/v1/referrals"):
        response = client.get(url, headers=gaia)
        assert response.status_code == 200 and response.json["items"] == [], url
    manager = {"Authorization": "Bearer " + _token(app, "manager@plan.demo")}  # aggregates only
    assert client.get("/api/v1/encounters", headers=manager).status_code == 403


def test_a_worker_lists_the_encounters_of_their_own_teams(app, client, worker, night):
    supervisor = {"Authorization": "Bearer " + _token(app, "supervisor@aurore.demo")}
    with app.app_context():  # the worker moves from aurore_nord to aurore_est only
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        user.teams = [t for t in user.teams if t.code != "aurore_nord"]
        db.session.commit()
    for url in ("/api/v1/encounters", "/api/v1/referrals"):
        assert client.get(url, headers=worker).json["items"] == [], url
    assert len(client.get("/api/v1/encounters", headers=supervisor).json["items"]) == 5
    assert len(client.get("/api/v1/referrals", headers=supervisor).json["items"]) == 1
