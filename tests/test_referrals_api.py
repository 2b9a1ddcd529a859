"""POST /api/v1/referrals/<id>/steps: 201 then 200 on replay (nothing created), 409 on a
different replay, 422 naming the field, 404 for another organisation, 403 for a plan manager,
never a 5xx."""
import threading
from datetime import timedelta

import pytest
from test_referrals import _status, make_referral

from outreach.extensions import db
from outreach.models import User
from outreach.referrals.services import today
from outreach.security import new_api_token


def _auth(app, email="worker@aurore.demo"):
    with app.app_context():
        token = new_api_token(
            db.session.execute(db.select(User).filter_by(email=email)).scalar_one())
        db.session.commit()
    return {"Authorization": "Bearer " + token}


def _url(referral_id):
    return f"/api/v1/referrals/{referral_id}/steps"


def test_step_then_replay_creates_one_event(app, client):
    rid, auth = make_referral(app, days_ago=3), _auth(app)
    day = (today() - timedelta(days=1)).isoformat()
    body = {"status": "refused", "occurred_on": day, "reason": "pas_de_place"}
    first = client.post(_url(rid), json=body, headers=auth)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "refused" and first.json["steps"][-1] == {
        "status": "refused", "occurred_on": day, "reason": "pas_de_place"}
    replay = client.post(_url(rid), json=body, headers=auth)
    assert replay.status_code == 200 and replay.json == first.json
    assert _status(app, rid) == ("refused", 2)
    other = client.post(_url(rid), json={**body, "reason": "hors_criteres"}, headers=auth)
    assert other.status_code == 409 and "status" in other.json["errors"]
    assert _status(app, rid) == ("refused", 2)


def test_bad_steps_422_naming_the_field_other_organisation_404_manager_403(app, client):
    rid, auth = make_referral(app, days_ago=3), _auth(app)
    day = today().isoformat()
    for body, field in [({"status": "admitted", "occurred_on": day}, "status"),
                        ({"status": "nope", "occurred_on": day}, "status"),
                        ({"status": "accepted"}, "occurred_on"),
                        ({"status": "accepted", "occurred_on": "2999-01-01"}, "occurred_on"),
                        ({"status": "accepted", "occurred_on": day, "reason": "pas_de_place"},
                         "reason"),
                        ({"status": "refused", "occurred_on": day}, "reason"),
                        ({"status": "refused", "occurred_on": day, "reason": "relais"}, "reason"),
                        ({"status": "exited", "occurred_on": day, "reason": 3}, "reason")]:
        response = client.post(_url(rid), json=body, headers=auth)
        assert (response.status_code == 422
                and field in response.json["errors"]), (body, response.json)
    assert client.post(_url(rid), data="[",
                       headers={**auth, "Content-Type": "application/json"}).status_code == 422
    body = {"status": "accepted", "occurred_on": day}
    assert client.post(_url(rid), json=body,
                       headers=_auth(app, "worker@gaia.demo")).status_code == 404
    assert client.post(_url("\x00"), json=body, headers=auth).status_code == 404
    assert client.post(_url(rid), json=body,
                       headers=_auth(app, "manager@plan.demo")).status_code == 403
    assert _status(app, rid) == ("proposed", 1)


def test_concurrent_replays_record_one_step(app):
    rid, auth = make_referral(app, days_ago=1), _auth(app)
    body = {"status": "accepted", "occurred_on": today().isoformat()}
    codes = []

    def post():
        codes.append(app.test_client().post(_url(rid), json=body, headers=auth).status_code)
    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 200, 200, 201]
    assert _status(app, rid) == ("accepted", 2)


@pytest.mark.slow
def test_schemathesis_step_operation_never_5xx(app):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    make_referral(app, days_ago=2)
    auth = _auth(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/referrals"):
            continue

        @given(operation.as_strategy())
        @settings(deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.path, case.body)
        check()
