"""Data every organisation shares (reference lists, sectors, the plan catalogue) belongs to
plan-level roles: one organisation's admin reads it and cannot change it; every change is audited
where each organisation's admin sees it."""
import io

import pytest
import yaml
from conftest import do_login
from sqlalchemy import select

from outreach.extensions import db
from outreach.indicators.catalogue import current_plan, to_yaml
from outreach.models import AuditEvent, Plan, RefItem, Sector, User
from outreach.security import hash_password


@pytest.fixture
def admins(app):
    """An instance admin (no organisation), besides the demo's Aurore and Gaïa admins."""
    with app.app_context():
        db.session.add(User(email="root@instance.demo", role="admin", organisation_id=None,
                            password_hash=hash_password("demo-password")))
        db.session.commit()

    def client_for(email):
        client = app.test_client()
        do_login(client, email)
        return client
    return client_for


def _ids(app):
    with app.app_context():
        belleville = db.session.execute(select(Sector.id).filter_by(code="belleville")).scalar()
        phase = db.session.execute(
            select(RefItem.id).filter_by(kind="programme", code="phase")).scalar()
        return belleville, phase


def _labels(app):
    with app.app_context():
        return (db.session.execute(select(Sector.label).filter_by(code="belleville")).scalar(),
                db.session.execute(
                    select(RefItem.label).filter_by(kind="programme", code="phase")).scalar())


def _plan_yaml(app, title):
    with app.app_context(), app.test_request_context():
        document = yaml.safe_load(to_yaml(current_plan()))
    document["plan"]["title"] = title
    return yaml.safe_dump(document, allow_unicode=True)


def _import(client, text):
    return client.post("/plan/import", data={"file": (io.BytesIO(text.encode()), "plan.yaml")},
                       content_type="multipart/form-data")


def test_an_organisation_admin_cannot_change_shared_data(app, admins):
    aurore = admins("admin@aurore.demo")
    belleville, phase = _ids(app)
    before = _labels(app)
    assert aurore.post(f"/admin/listes/sector/{belleville}",
                       data={"label": "Gaïa ?", "position": "1",
                             "is_active": "y"}).status_code == 403
    assert aurore.post(f"/admin/listes/programme/{phase}",
                       data={"label": "X", "position": "1", "is_active": "y"}).status_code == 403
    assert aurore.post("/admin/listes/material",
                       data={"code": "kit_x", "label": "X"}).status_code == 403
    with app.app_context():
        plans = db.session.execute(select(Plan.title)).scalars().all()
    assert _import(aurore, _plan_yaml(app, "Plan remplacé par Aurore")).status_code == 403
    with app.app_context():
        assert db.session.execute(select(Plan.title)).scalars().all() == plans
    assert _labels(app) == before
    page = aurore.get("/admin/listes").get_data(as_text=True)
    assert 'id="shared-lists"' in page and "Belleville" in page
    assert f'action="/admin/listes/sector/{belleville}"' not in page
    assert "Importer la liste officielle" not in aurore.get("/plan").get_data(as_text=True)


@pytest.mark.parametrize("email", ["manager@plan.demo", "root@instance.demo"])
def test_plan_level_changes_are_in_every_organisations_log(app, admins, email):
    editor = admins(email)
    belleville, phase = _ids(app)
    assert editor.post(f"/admin/listes/sector/{belleville}",
                       data={"label": "Belleville (haut)", "position": "1",
                             "is_active": "y"}).status_code == 302
    assert editor.post(f"/admin/listes/programme/{phase}",
                       data={"label": "PHASE (Aurore)", "position": "1",
                             "is_active": "y"}).status_code == 302
    assert _import(editor, _plan_yaml(app, "Plan officiel 2024")).status_code == 302
    assert _labels(app) == ("Belleville (haut)", "PHASE (Aurore)")
    assert "Plan officiel 2024" in editor.get("/plan").get_data(as_text=True)
    with app.app_context():
        imported = db.session.execute(
            select(AuditEvent).filter_by(action="plan_imported")).scalar_one()
        assert imported.organisation_id is None and imported.actor.email == email
        assert "indicators" in imported.before and "indicators" in imported.after
    for admin in ("admin@aurore.demo", "admin@gaia.demo"):
        log = admins(admin).get("/admin/journal").get_data(as_text=True)
        assert ("Belleville (haut)" in log and "PHASE (Aurore)" in log
                and "Plan importé" in log), admin


def test_the_import_plan_command_is_audited_too(app, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(_plan_yaml(app, "Plan en ligne de commande"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-plan", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).filter_by(action="plan_imported")).scalar_one()
        assert event.details["title"] == "Plan en ligne de commande" and event.actor_id is None
