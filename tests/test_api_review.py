"""Supervisors validate, withdraw a validation and correct through the API with a bearer token: the
review pages' rules, reasons and audit (outreach.review.services), answered in JSON naming the
field."""
import pytest
from test_api_write import SHIFT_ID, _token, encounter_body, shift_body

from outreach.extensions import db
from outreach.models import AuditEvent, Contact, Shift


def _bearer(app, email):
    return {"Authorization": "Bearer " + _token(app, email)}


@pytest.fixture
def supervisor(app):
    return _bearer(app, "supervisor@aurore.demo")


@pytest.fixture
def closed(app, client):
    """A closed shift of aurore with one known encounter; the encounter's id."""
    worker = _bearer(app, "worker@aurore.demo")
    assert client.post("/api/v1/shifts", json=shift_body(), headers=worker).status_code == 201
    body = encounter_body(sector="stalingrad")
    assert client.post("/api/v1/encounters", json=body, headers=worker).status_code == 201
    closing = client.post(f"/api/v1/shifts/{SHIFT_ID}/close", headers=worker,
                          json={"ended_at": "2026-11-28T01:00:00Z"})
    assert closing.status_code == 200 and closing.json["status"] == "closed"
    return body["id"]


def _audit(app, action):
    with app.app_context():
        return [(e.actor.email, e.target_id, e.field, e.before, e.after, e.reason)
                for e in db.session.execute(
            db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars()]


def _state(app):
    with app.app_context():
        return db.session.get(Shift, SHIFT_ID).status


def test_validate_with_the_digest_read_then_the_locked_shift_refuses_a_second_validation(
        app, client, supervisor,
        closed):
    read = client.get(f"/api/v1/shifts/{SHIFT_ID}", headers=supervisor)
    assert read.status_code == 200 and read.json["status"] == "closed"
    validated = client.post(f"/api/v1/shifts/{SHIFT_ID}/validate", headers=supervisor,
                            json={"summary_digest": read.json["summary_digest"]})
    assert validated.status_code == 200, validated.json
    assert validated.json["status"] == "validated" and validated.json["validated_at"]
    assert _audit(app, "shift.validate") == [
        ("supervisor@aurore.demo", SHIFT_ID, "status", "closed", "validated",
         None)]
    again = client.post(f"/api/v1/shifts/{SHIFT_ID}/validate", headers=supervisor)
    assert again.status_code == 422 and again.json["errors"] == {
        "status": "Seule une maraude clôturée peut être validée."}
    assert len(_audit(app, "shift.validate")) == 1 and _state(app) == "validated"
    # the locked shift takes no new encounter from a worker
    worker = _bearer(app, "worker@aurore.demo")
    late = client.post("/api/v1/encounters", headers=worker,
                       json=encounter_body(occurred_at="2026-11-27T23:00:00Z"))
    assert late.status_code in (403, 409, 422) and "shift_id" in late.json["errors"]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Contact)).scalar() == 1


def test_a_stale_summary_and_an_open_shift_are_refused(app, client, supervisor, closed):
    stale = client.post(f"/api/v1/shifts/{SHIFT_ID}/validate", headers=supervisor,
                        json={"summary_digest": "0" * 16})
    assert stale.status_code == 422 and set(stale.json["errors"]) == {"summary"}
    assert _state(app) == "closed" and _audit(app, "shift.validate") == []
    worker = _bearer(app, "worker@aurore.demo")
    other = shift_body(id="7a1c2a9e-3b4d-4e5f-8a7b-1c2d3e4f5a6c", team="aurore_est",
                       started_at="2026-11-29T21:30:00Z")
    assert client.post("/api/v1/shifts", json=other, headers=worker).status_code == 201
    still_open = client.post(f"/api/v1/shifts/{other['id']}/validate", headers=supervisor)
    assert still_open.status_code == 422 and set(still_open.json["errors"]) == {"status"}


def test_unvalidate_needs_a_reason_and_is_audited(app, client, supervisor, closed):
    assert client.post(f"/api/v1/shifts/{SHIFT_ID}/validate", headers=supervisor).status_code == 200
    silent = client.post(f"/api/v1/shifts/{SHIFT_ID}/unvalidate", headers=supervisor,
                         json={"reason": "  "})
    assert silent.status_code == 422 and silent.json["errors"] == {"reason": "Le motif est "
                                                                             "obligatoire."}
    assert _state(app) == "validated"
    done = client.post(f"/api/v1/shifts/{SHIFT_ID}/unvalidate", headers=supervisor,
                       json={"reason": "Contact oublié"})
    assert done.status_code == 200 and done.json["status"] == "closed"
    assert _audit(app, "shift.unvalidate") == [
        ("supervisor@aurore.demo", SHIFT_ID, "status", "validated", "closed",
         "Contact oublié")]


def test_corrections_by_code_with_a_reason_audited_as_from_the_page(app, client, supervisor,
                                                                    closed):
    url = f"/api/v1/encounters/{closed}/corrections"
    assert client.post(f"/api/v1/shifts/{SHIFT_ID}/validate", headers=supervisor).status_code == 200
    sector = client.post(url, headers=supervisor,
                         json={"field": "sector", "value": "chapelle", "reason": "Erreur"})
    assert sector.status_code == 200, sector.json
    assert sector.json["sector"] == "chapelle"
    material = client.post(url, headers=supervisor,
                           json={"field": "material-kit_base", "value": 3, "reason": "Oubli"})
    assert material.status_code == 200, material.json
    events = _audit(app, "contact.correct")
    assert [(e[0], e[1], e[5]) for e in events] == [("supervisor@aurore.demo", closed, "Erreur"),
                                                    ("supervisor@aurore.demo", closed, "Oubli")]
    assert events[1][3:5] == ("1", "3")
    with app.app_context():
        assert db.session.get(Contact, closed).materials[0].quantity == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"field": "sex", "value": "f"}, "reason"),
    ({"field": "people_count", "value": 3, "reason": "x"}, "value"),
    ({"field": "sector", "value": "nowhere", "reason": "x"}, "value"),
    ({"field": "shift_id", "value": "x",
     "reason": "x"}, "field"),
    ({"field": "sex", "value": ["f"], "reason": "x"}, "value"),
    ({"field": 3, "reason": "x"}, "field")])
def test_a_refused_correction_names_the_field_and_changes_nothing(app, client, supervisor, closed,
                                                                  body, field):
    response = client.post(f"/api/v1/encounters/{closed}/corrections", headers=supervisor,
                           json=body)
    assert response.status_code == 422 and set(response.json["errors"]) == {field}, response.json
    assert _audit(app, "contact.correct") == []
    with app.app_context():
        contact = db.session.get(Contact, closed)
        assert (contact.sex, contact.people_count, contact.sector.code) == ("m", 1, "stalingrad")


def test_english_errors_with_accept_language(app, client, supervisor, closed):
    response = client.post(f"/api/v1/encounters/{closed}/corrections",
                           json={"field": "sex", "value": "f"},
                           headers={**supervisor, "Accept-Language": "en"})
    assert (response.status_code == 422
            and response.json["errors"]["reason"] == "The reason is required.")


def test_only_supervisors_of_the_organisation(app, client, closed):
    worker = _bearer(app, "worker@aurore.demo")
    for url, body in ((f"/api/v1/shifts/{SHIFT_ID}/validate", {}),
                      (f"/api/v1/encounters/{closed}/corrections",
                       {"field": "sex", "value": "f", "reason": "x"})):
        assert client.post(url, headers=worker, json=body).status_code == 403
        assert client.post(url, headers=_bearer(app, "manager@plan.demo"),
                           json=body).status_code == 403
        assert client.post(url, headers=_bearer(app, "supervisor@gaia.demo"),
                           json=body).status_code == 404
    assert client.get(f"/api/v1/shifts/{SHIFT_ID}",
                      headers=_bearer(app, "worker@gaia.demo")).status_code == 404
    assert _state(app) == "closed" and _audit(app, "contact.correct") == []
