"""What the server does with a phone's queue (issue 15): two workers meeting the same new person
at the same moment, contacts reaching a shift closed meanwhile, one rule for closing a shift, the
phone's clock. Both databases."""
import datetime as dt
import threading
import uuid

import pytest

from bench.harness import PATIENCE
from outreach.extensions import db
from outreach.models import AuditEvent, Contact, Person, Shift, User
from outreach.security import new_api_token
from outreach.seed import DEMO_PASSWORD


def _user(app, email, role="worker", like="worker@aurore.demo"):
    """The demo user ``email``, or a new one in the same organisation and teams as ``like``."""
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is None:
            model = db.session.execute(db.select(User).filter_by(email=like)).scalar_one()
            user = User(email=email, role=role, organisation_id=model.organisation_id,
                        teams=list(model.teams), password_hash=model.password_hash)
            db.session.add(user)
        token = new_api_token(user)
        db.session.commit()
        return {"Authorization": "Bearer " + token}, user.teams[0].code


def _now(minutes=0):
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(client, who):
    headers, team = who
    shift_id = str(uuid.uuid4())
    answer = client.post("/api/v1/shifts", headers=headers, json={
        "id": shift_id, "team": team, "started_at": _now(-60), "sectors": [], "staff_count": 2})
    assert answer.status_code == 201, answer.json
    return shift_id


def _contact(shift_id, digest=None, minutes=0, **extra):
    body = {"id": str(uuid.uuid4()), "shift_id": shift_id, "occurred_at": _now(minutes),
            "people_count": 1,
            "kind": "known" if digest else "anonymous", "sex": "m", "age_band": "26_35", **extra}
    if digest:
        body["person"] = {"digest": digest, "weak": False}
    return body


def test_two_workers_meeting_the_same_new_person_at_once_both_store_their_contact(app):
    """Issue 15 item 10: the second insert of a new person's code used to hit the unique code
    (409 on PostgreSQL, made final by the phone). Create-or-get is atomic: both contacts stored,
    one person."""
    workers = [_user(app, "worker@aurore.demo"),
               _user(app, "worker@gaia.demo", like="worker@gaia.demo")]
    setup = app.test_client()
    shifts = [_start(setup, who) for who in workers]
    answers, rounds = [], 20
    for _ in range(rounds):
        digest = uuid.uuid4().hex * 2
        barrier = threading.Barrier(2)

        def post(who, shift_id, digest=digest, barrier=barrier):
            client, body = app.test_client(), _contact(shift_id, digest)
            barrier.wait(PATIENCE)
            answer = client.post("/api/v1/encounters", headers=who[0], json=body)
            answers.append((answer.status_code, answer.get_json()))

        threads = [threading.Thread(target=post, args=(who, shift))
                   for who, shift in zip(workers, shifts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(PATIENCE)
    assert [a[0] for a in answers] == [201] * 2 * rounds, [a for a in answers if a[0] != 201][:3]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Person)).scalar() == rounds
        firsts = db.session.execute(db.select(Contact.person_id, db.func.count()).where(
            Contact.is_first_contact.is_(True)).group_by(Contact.person_id)).all()
        # first contact once per person
        assert len(firsts) == rounds and all(n == 1 for _, n in firsts)


def test_a_reused_contact_id_alone_reads_already_used(app):
    aurore, gaia = _user(app, "worker@aurore.demo"), _user(app, "worker@gaia.demo",
                                                           like="worker@gaia.demo")
    client = app.test_client()
    body = _contact(_start(client, aurore))
    assert client.post("/api/v1/encounters", headers=aurore[0], json=body).status_code == 201
    other = client.post("/api/v1/encounters", headers=gaia[0],
                        json={**body, "shift_id": _start(client, gaia)})
    assert other.status_code == 409 and "déjà utilisé" in other.json["errors"]["id"]


def _close(client, headers, shift_id, **body):
    return client.post(f"/api/v1/shifts/{shift_id}/close", headers=headers, json=body)


def test_one_rule_closes_a_shift_on_the_page_and_in_the_api(app):
    """Issue 15 item 3 (and 18 item 11): another worker could close a shift through the API while
    the page refused it. Now both answer the same: the opener or a supervisor, nobody else."""
    client = app.test_client()
    owner, other = _user(app, "worker@aurore.demo"), _user(app, "other-worker@aurore.demo")
    supervisor = _user(app, "supervisor@aurore.demo")
    first, second = _start(client, owner), None
    refused = _close(client, other[0], first)
    assert refused.status_code == 403 and "ouvert la maraude" in refused.json["errors"]["shift_id"]
    page = app.test_client()
    page.post("/connexion", data={"email": "other-worker@aurore.demo", "password": DEMO_PASSWORD})
    on_page = page.post(f"/maraude/{first}/close", data={})
    assert on_page.status_code == 403 and "ouvert la maraude" in on_page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Shift, first).status == "open"
    assert _close(client, supervisor[0], first).json["status"] == "closed"
    second = _start(client, owner)
    sup_page = app.test_client()
    sup_page.post("/connexion", data={"email": "supervisor@aurore.demo", "password": DEMO_PASSWORD})
    assert sup_page.post(f"/maraude/{second}/close", data={}).status_code == 302
    with app.app_context():
        assert db.session.get(Shift, second).status == "closed"


def test_contacts_of_a_shift_closed_meanwhile_are_kept_flagged_until_validation(app):
    """Issue 15 item 3: the supervisor closes the shift while the phone still holds its contacts.
    Those that happened before the end are accepted into it, flagged "arrivé après la clôture"
    and audited; one after the end, or any once the shift is validated, is refused with a message
    saying why."""
    client = app.test_client()
    worker, supervisor = _user(app, "worker@aurore.demo"), _user(app, "supervisor@aurore.demo")
    shift_id = _start(client, worker)
    waiting = [_contact(shift_id, minutes=-30),
               _contact(shift_id, uuid.uuid4().hex * 2, minutes=-20)]
    assert _close(client, supervisor[0], shift_id, ended_at=_now(-10)).status_code == 200
    for body in waiting:
        answer = client.post("/api/v1/encounters", headers=worker[0], json=body)
        assert answer.status_code == 201, answer.json
    # 2 minutes after the end: within the 5 minutes' leeway of a contact's time, but after the close
    after_end = client.post("/api/v1/encounters", headers=worker[0],
                            json=_contact(shift_id, minutes=-8))
    assert (after_end.status_code == 403
            and "postérieur à sa fin" in after_end.json["errors"]["shift_id"])
    with app.app_context():
        stored = db.session.execute(db.select(Contact).filter_by(shift_id=shift_id)).scalars().all()
        assert sorted(c.id for c in stored) == sorted(b["id"] for b in waiting)
        assert all(c.is_late for c in stored)
        audited = db.session.execute(
            db.select(AuditEvent.target_id).filter_by(action="contact.late")).scalars()
        assert sorted(audited) == sorted(b["id"] for b in waiting)
    review = app.test_client()
    review.post("/connexion", data={"email": "supervisor@aurore.demo", "password": DEMO_PASSWORD})
    summary = review.get(f"/revue/maraude/{shift_id}").get_data(as_text=True)
    # one badge per contact
    assert summary.count('<strong class="late">arrivé après la clôture</strong>') == 2
    with app.app_context():
        shift = db.session.get(Shift, shift_id)
        shift.status = "validated"
        db.session.commit()
    locked = client.post("/api/v1/encounters", headers=worker[0],
                         json=_contact(shift_id, minutes=-40))
    assert locked.status_code == 403 and "validée" in locked.json["errors"]["shift_id"]


@pytest.mark.parametrize("phone_ahead_minutes", [120, -120])
def test_the_servers_clock_decides_times_taken_from_a_wrong_phone_clock(app, phone_ahead_minutes):
    """Issue 15 item 6: a phone 2 h ahead started a shift in the future and its contacts were
    refused; 2 h behind, times were stored 2 h early. The phone sends its clock (X-Client-Clock)
    and names the times it took from it (X-Client-Clock-Fields): those are corrected by the
    measured offset."""
    client = app.test_client()
    headers, team = _user(app, "worker@aurore.demo")
    offset = dt.timedelta(minutes=phone_ahead_minutes)
    phone_now = dt.datetime.now(dt.UTC) + offset
    clock = {**headers, "X-Client-Clock": str(int(phone_now.timestamp() * 1000))}
    shift_id = str(uuid.uuid4())
    started = (phone_now - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.post("/api/v1/shifts", headers={**clock, "X-Client-Clock-Fields": "started_at"},
                         json={
        "id": shift_id, "team": team, "started_at": started, "sectors": [], "staff_count": 2})
    assert answer.status_code == 201, answer.json
    typed = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bodies = [{**_contact(shift_id), "occurred_at": (phone_now - dt.timedelta(minutes=m)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")} for m in (20, 10)]
    for body in bodies:
        answer = client.post("/api/v1/encounters",
                             headers={**clock, "X-Client-Clock-Fields": "occurred_at"}, json=body)
        assert answer.status_code == 201, answer.json
    typed_body = {**_contact(shift_id), "occurred_at": typed}  # typed by the worker: taken as it is
    assert client.post("/api/v1/encounters", headers=clock, json=typed_body).status_code == 201
    with app.app_context():
        shift = db.session.get(Shift, shift_id)
        real_start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=30)
        assert abs(shift.started_at - real_start) < dt.timedelta(minutes=2)
        for body, minutes in zip(bodies, (20, 10)):
            stored = db.session.get(Contact, body["id"]).occurred_at
            real = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=minutes)
            assert abs(stored - real) < dt.timedelta(minutes=2), (stored, real)
        assert db.session.get(Contact,
                              typed_body["id"]).occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ") == typed
        offsets = db.session.execute(
            db.select(AuditEvent).filter_by(action="device.clock")).scalars().all()
        assert offsets and all(abs(e.details["offset_seconds"] - phone_ahead_minutes * 60) < 120
                               for e in offsets)
