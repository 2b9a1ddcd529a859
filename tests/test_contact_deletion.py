"""Deleting a contact: same team scope on every path (undo, delete), and every deletion audited."""
import re

from conftest import do_login
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import AuditEvent, Contact, Organisation, Team, User
from outreach.security import hash_password


def _worker(app, email, team_code):
    """A worker of aurore on one team only."""
    with app.app_context():
        org = db.session.execute(select(Organisation).filter_by(code="aurore")).scalar_one()
        team = db.session.execute(select(Team).filter_by(code=team_code)).scalar_one()
        db.session.add(User(email=email, role="worker", organisation=org, teams=[team],
                            password_hash=hash_password("demo-password")))
        db.session.commit()


def _shift_with_contact(app, email, team):
    client = app.test_client()
    do_login(client, email)
    assert client.post("/maraude", data={"team": team, "staff_count": "1"}).status_code == 302
    assert client.post("/maraude/contacts",
                       data={"kind": "anonymous", "people_count": "2"}).status_code == 302
    with app.app_context():
        contact = db.session.execute(
            select(Contact).join(Team).filter(Team.code == team)).scalar_one()
        return client, contact.id


def _deletions(app):
    with app.app_context():
        return db.session.execute(
            select(AuditEvent).filter_by(action="contact.delete")).scalars().all()


def test_a_worker_cannot_delete_another_teams_contact(app):
    _worker(app, "nord@aurore.demo", "aurore_nord")
    _worker(app, "est@aurore.demo", "aurore_est")
    _owner, contact_id = _shift_with_contact(app, "est@aurore.demo", "aurore_est")
    other = app.test_client()
    do_login(other, "nord@aurore.demo")
    # another team's contact is answered as an unknown id (access.owners(): a worker's teams)
    assert other.post(f"/maraude/contacts/{contact_id}/supprimer").status_code == 404
    assert other.post(f"/maraude/contacts/{contact_id}").status_code == 404  # nor edit it
    with app.app_context():
        assert db.session.get(Contact, contact_id) is not None
    assert not _deletions(app)


def test_every_deletion_is_audited(app):
    _worker(app, "est@aurore.demo", "aurore_est")
    owner, removed = _shift_with_contact(app, "est@aurore.demo", "aurore_est")
    assert owner.post(f"/maraude/contacts/{removed}/supprimer").status_code == 302
    owner.post("/maraude/contacts", data={"kind": "refusal"})
    with app.app_context():
        undone = db.session.execute(select(Contact.id)).scalar_one()
    assert owner.post(f"/maraude/contacts/{undone}/undo").status_code == 302
    events = _deletions(app)
    assert [(e.target_id, e.details["how"]) for e in events] == [(removed, "remove"),
                                                                 (undone, "undo")]
    with app.app_context():
        est = db.session.execute(select(User).filter_by(email="est@aurore.demo")).scalar_one()
        assert {e.actor_id for e in events} == {est.id}
        assert {e.organisation_id for e in events} == {est.organisation_id}
    assert events[0].details["people_count"] == 2 and events[1].details["kind"] == "refusal"
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")
    journal = admin.get("/admin/journal?action=contact.delete").get_data(as_text=True)
    rows = re.findall(r"<tr[^>]*>(?:(?!</tr>).)*?Contact supprimé", journal, re.DOTALL)
    assert len(rows) == 2  # both deletions listed, by their label
