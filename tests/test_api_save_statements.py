"""A contact saved through the JSON API costs no more SQL than one saved from the form (at most 8
statements for the whole request, on both databases): the token and its user in one read, the
contact looked up once, the answer built from what the save already holds."""

import uuid
from datetime import date, timedelta

from sqlalchemy import select, update
from test_api_write import _token
from test_reference_cache import Statements, _start

from outreach.extensions import db
from outreach.models import Contact, ContactMaterial, Person, Shift, utcnow
from outreach.shifts.services import local_date

WORKER = "worker@aurore.demo"


def _encounter(shift_id, **extra):
    return {"id": str(uuid.uuid4()), "shift_id": shift_id, "kind": "known", "sector": "stalingrad",
            "person": {"digest": "d" * 64, "weak": False}, "materials": {"kit_base": 1}, **extra}


def _setup(app, client):
    _start(app, client)
    with app.app_context():
        shift_id = db.session.execute(select(Shift.id).filter_by(status="open")).scalar_one()
    return shift_id, {"Authorization": "Bearer " + _token(app, WORKER)}


def _seen_before(app):
    """The person was last met days ago: this save moves their dates (an UPDATE of its own)."""
    with app.app_context():
        db.session.execute(update(Person).values(last_seen_on=date.today() - timedelta(days=3)))
        db.session.commit()


def test_an_api_save_runs_at_most_eight_statements(app, client):
    shift_id, auth = _setup(app, client)
    api = app.test_client()
    first = api.post("/api/v1/encounters", json=_encounter(shift_id), headers=auth)
    assert first.status_code == 201
    _seen_before(app)
    body = _encounter(shift_id)
    with Statements(app) as seen:
        created = api.post("/api/v1/encounters", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    assert len(seen) <= 8, "\n".join(seen)
    assert [s for s in seen if s.startswith("UPDATE persons")], seen
    answer = created.get_json()
    assert answer["id"] == body["id"] and answer["sector"] == "stalingrad"
    assert answer["person"]["known"] is True and answer["person"]["last_seen_team"]
    with app.app_context():
        stored = db.session.get(Contact, body["id"])
        assert stored.person is not None and stored.sector.code == "stalingrad"
        # the date is Paris's: a day ahead of UTC's from 23:00 (22:00 in summer) to midnight
        assert stored.person.last_seen_on == stored.occurred_on <= local_date(utcnow())
        quantities = db.session.execute(select(ContactMaterial.quantity)
                                        .filter_by(contact_id=body["id"])).scalars().all()
        assert quantities == [1]


def test_an_api_save_with_an_orientation_and_a_referral_stays_within_eight(app, client):
    shift_id, auth = _setup(app, client)
    api = app.test_client()
    first = api.post("/api/v1/encounters", json=_encounter(shift_id), headers=auth)
    assert first.status_code == 201
    body = _encounter(shift_id, orientations=[{"destination": "csapa", "accompanied": True}],
                      referrals=[{"programme": "lhss_lam"}])
    with Statements(app) as seen:
        created = api.post("/api/v1/encounters", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert [o["destination"] for o in answer["orientations"]] == ["csapa"]
    assert [r["programme"] for r in answer["referrals"]] == ["lhss_lam"]
    assert answer["referrals"][0]["status"] == "proposed"
    # the orientation and the referral (with its event) are one INSERT each more than a bare save
    assert len(seen) <= 11, "\n".join(seen)


def test_a_replay_answers_the_stored_encounter_in_few_statements(app, client):
    shift_id, auth = _setup(app, client)
    api = app.test_client()
    body = _encounter(shift_id)
    first = api.post("/api/v1/encounters", json=body, headers=auth)
    assert first.status_code == 201
    with Statements(app) as seen:
        again = api.post("/api/v1/encounters", json=body, headers=auth)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(seen) <= 8, "\n".join(seen)
