"""Reference lists kept per process: a contact save no longer re-reads them (at most 8 SQL
statements), and an admin's edit in another process (another app on the same database, as another
gunicorn worker) is seen at that process's next request; a rolled-back edit is never served."""

import uuid

from conftest import _make_app, do_login
from sqlalchemy import event, select
from test_api_write import _token

from outreach.contacts import services as contacts
from outreach.extensions import db
from outreach.models import (
    Contact,
    ContactMaterial,
    ReferenceVersion,
    RefItem,
    Shift,
    User,
)
from outreach.reference import services as reference

WORKER = "worker@aurore.demo"


class Statements:
    """Every SQL statement the app's engine runs inside the ``with`` block."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.seen = []

    def _count(self, conn, cursor, statement, *_args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _start(app, client):
    do_login(client, WORKER)
    with app.app_context():
        team = db.session.execute(select(User).filter_by(email=WORKER)).scalar_one().teams[0].code
    assert client.post("/maraude", data={"team": team, "staff_count": "2"}).status_code == 302


def _known(name, **extra):
    return {
        "kind": "known",
        "pseudo_initial": "Q",
        "pseudo_name": name,
        "pseudo_birth": "1977",
        "pseudo_sex": "m",
        "material-kit_base": "1",
        **extra,
    }


def _save(app, data):
    """record_contact + commit, as the views and the API run it; returns the statements it ran."""
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email=WORKER)).scalar_one()
        shift = db.session.execute(select(Shift).filter_by(status="open")).scalar_one()
        with Statements(app) as seen:
            contacts.record_contact(shift, user, data)
            db.session.commit()
    return seen


def _ids(app, kind, *codes):
    with app.app_context():
        ids = reference.codes_to_ids(kind)
        return [ids[c] for c in codes]


def test_a_contact_save_runs_at_most_eight_statements(app, client):
    _start(app, client)
    (kit,) = _ids(app, "material", "kit_base")
    (stalingrad,) = _ids(app, "sector", "stalingrad")
    known = {"kind": "known", "digest": "a" * 64, "materials": {kit: 1}, "sector_id": stalingrad}
    _save(app, known)  # the person's first contact; the lists are read once here
    again = _save(app, known)  # a person seen before, with a kit, in a sector
    anonymous = _save(app, {"kind": "anonymous", "people_count": 2, "sector_id": stalingrad})
    assert len(again) <= 8, again
    assert len(anonymous) <= 8, anonymous
    for statement in again + anonymous:
        assert "ref_items" not in statement and "FROM sectors" not in statement, statement
    with app.app_context():
        assert db.session.execute(select(ContactMaterial.quantity)).scalars().all() == [1, 1]


def test_the_form_and_the_api_read_no_list_on_a_save(app, client):
    _start(app, client)
    assert client.post("/maraude/contacts", data=_known("ZORGLUB")).status_code == 302
    with Statements(app) as seen:
        response = client.post(
            "/maraude/contacts", data=_known("ZORGLUB", **{"orientation-csapa": "1"})
        )
    assert response.status_code == 302
    assert not [s for s in seen if "ref_items" in s or "FROM sectors" in s], seen
    with app.app_context():
        shift_id = db.session.execute(select(Shift.id).filter_by(status="open")).scalar_one()
    api = app.test_client()
    auth = {"Authorization": "Bearer " + _token(app, WORKER)}
    body = {"shift_id": shift_id, "kind": "known", "sector": "stalingrad",
            "person": {"digest": "c" * 64, "weak": False}, "materials": {"kit_base": 1},
            "orientations": [{"destination": "csapa", "accompanied": True}]}
    api.post("/api/v1/encounters", json={**body, "id": str(uuid.uuid4())}, headers=auth)
    with Statements(app) as seen:
        created = api.post("/api/v1/encounters", json={**body, "id": str(uuid.uuid4())},
                           headers=auth)
    assert created.status_code == 201, created.get_json()
    # no list is read; the answer, built after the commit, reloads the contact and its sector row
    lists = [s for s in seen
             if "ref_items" in s or ("FROM sectors" in s and "sectors.id =" not in s)]
    assert not lists, seen
    with app.app_context():
        assert db.session.execute(select(db.func.count()).select_from(Contact)).scalar() == 4


def _relabel(app, code, label):
    with app.app_context():
        item = db.session.execute(
            select(RefItem).filter_by(kind="material", code=code)
        ).scalar_one()
        item.label = label
        db.session.commit()


def test_an_edit_in_another_process_is_seen_at_its_next_request(
    app, client, database_url, tmp_path
):
    _start(app, client)
    assert client.get("/maraude").status_code == 200  # this process has read and kept the lists
    other = _make_app(
        database_url, str(tmp_path / "other")
    )  # another worker process: a cache of its own
    admin = other.test_client()
    do_login(admin, "manager@plan.demo")
    assert (
        admin.post(
            "/admin/listes/material", data={"code": "kit_hiver", "label": "Kit grand froid"}
        ).status_code
        == 302
    )
    page = client.get("/maraude").get_data(as_text=True)
    assert "Kit grand froid" in page
    # the new item can be given at once from the first process, by the form and by the API's codes
    assert (
        client.post(
            "/maraude/contacts",
            data={"kind": "anonymous", "people_count": "1", "material-kit_hiver": "2"},
        ).status_code
        == 302
    )
    with app.app_context():
        given = db.session.execute(
            select(RefItem.code, ContactMaterial.quantity).join(
                ContactMaterial, ContactMaterial.material_id == RefItem.id
            )
        ).all()
    assert [tuple(r) for r in given] == [("kit_hiver", 2)]
    _relabel(other, "kit_hiver", "Kit hiver")
    page = client.get("/maraude").get_data(as_text=True)
    assert "Kit hiver" in page and "Kit grand froid" not in page
    with other.app_context():
        db.engine.dispose()


def test_a_contact_save_leaves_the_version_alone(app, client):
    _start(app, client)
    with app.app_context():
        before = db.session.get(ReferenceVersion, 1).version
    assert client.post("/maraude/contacts", data=_known("ZORGLUB")).status_code == 302
    with app.app_context():
        assert db.session.get(ReferenceVersion, 1).version == before


def test_a_rolled_back_edit_is_never_served(app):
    with app.test_request_context():
        assert "Kit jamais" not in [i.label for i in reference.items("material")]
        item = db.session.execute(
            select(RefItem).filter_by(kind="material", code="kit_base")
        ).scalar_one()
        item.label = "Kit jamais"
        db.session.flush()
        assert "Kit jamais" in [
            i.label for i in reference.items("material")
        ]  # the editor sees its own edit
        db.session.rollback()
    with app.test_request_context():
        labels = [i.label for i in reference.items("material")]
    assert "Kit jamais" not in labels and labels
