"""Bulk writes with explicit ids leave no id sequence behind (PostgreSQL), and a database
constraint error is reported as what it is, never as a replayed contact id."""
import uuid

from sqlalchemy import func, select
from test_api_write import _token, encounter_body, shift_body

from outreach import contract
from outreach.database import reset_sequences
from outreach.extensions import db
from outreach.indicators.synthetic import build_history
from outreach.models import Person, User


def _start(app, client, email="worker@aurore.demo"):
    with app.app_context():
        team = db.session.execute(select(User).filter_by(email=email)).scalar_one().teams[0].code
    from conftest import do_login
    do_login(client, email)
    assert client.post("/maraude", data={"team": team, "staff_count": "1"}).status_code == 302


def _known(client, digest):
    return client.post("/maraude/contacts",
                       data={"kind": "known", "digest": digest, "id": str(uuid.uuid4())})


def test_a_new_person_after_the_synthetic_history(app, client):
    with app.app_context():
        build_history(60, seed=3)
        before = db.session.execute(select(func.count(Person.id))).scalar()
        assert before > 0
    _start(app, client)
    for n in range(3):
        response = _known(client, f"{n + 7:064x}")
        assert response.status_code == 302, response.get_data(as_text=True)[-600:]
    with app.app_context():
        assert db.session.execute(select(func.count(Person.id))).scalar() == before + 3


def test_reset_sequences_after_explicit_ids(app):
    with app.app_context():
        conn = db.session.connection()
        conn.execute(Person.__table__.insert(),
                     [{"id": 500 + i, "code": f"{i:064x}", "is_weak": False}
                       for i in range(3)])
        reset_sequences(conn, {"persons"})
        person = Person(code="f" * 64, is_weak=False)
        db.session.add(person)
        db.session.flush()
        assert person.id == 503
        db.session.commit()


def _let_a_known_group_through(monkeypatch):
    """The contract's cross-field check switched off (as a bug would), so the database's CHECK
    refuses the write: a person creation races no longer reach it (create-or-get), a broken rule
    still must be named."""
    monkeypatch.setattr(contract, "combination_errors", lambda *args, **kwargs: {})


def test_a_constraint_error_is_not_a_duplicate_contact_id(app, client, monkeypatch):
    _start(app, client)
    assert _known(client, "a" * 64).status_code == 302
    _let_a_known_group_through(monkeypatch)
    response = client.post("/maraude/contacts",
                           data={"kind": "known", "digest": "b" * 64, "people_count": "3",
                                 "id": str(uuid.uuid4())})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Identifiant de contact déjà utilisé" not in page
    assert "contrainte" in page and "known_one_person" in page


def test_the_api_says_the_same(app, client, monkeypatch):
    auth = {"Authorization": "Bearer " + _token(app, "worker@aurore.demo")}
    assert client.post("/api/v1/shifts", json=shift_body(), headers=auth).status_code == 201
    assert client.post("/api/v1/encounters", json=encounter_body(), headers=auth).status_code == 201
    _let_a_known_group_through(monkeypatch)
    response = client.post("/api/v1/encounters",
                           json=encounter_body(id=str(uuid.uuid4()), people_count=3), headers=auth)
    assert response.status_code == 409  # a broken rule, not a race: not retried as a 503
    message = response.get_json()["errors"]["id"]
    assert "contrainte" in message and "known_one_person" in message
