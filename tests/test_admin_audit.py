"""The audit log viewer: filters, organisation scope, append-only."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from outreach import audit
from outreach.audit import AuditIsAppendOnly
from outreach.contract import local_today
from outreach.extensions import db
from outreach.models import AuditEvent, User


def test_viewer_lists_and_filters(client, login, app):
    client.post("/connexion", data={"email": "worker@aurore.demo", "password": "nope nope nope"})
    login("admin@aurore.demo")
    page = client.get("/admin/journal").get_data(as_text=True)
    assert "<td>Échec de connexion</td>" in page and "<td>Connexion</td>" in page
    page = client.get("/admin/journal?action=login_failed").get_data(as_text=True)
    assert "<td>Échec de connexion</td>" in page and "<td>Connexion</td>" not in page
    page = client.get("/admin/journal?email=admin@aurore.demo").get_data(as_text=True)
    assert "<td>Échec de connexion</td>" not in page and "<td>Connexion</td>" in page
    tomorrow = (local_today() + timedelta(days=1)).isoformat()  # a Paris day
    assert "Aucune entrée" in client.get(f"/admin/journal?start={tomorrow}").get_data(as_text=True)
    assert client.get("/admin/journal?start=not-a-date").status_code == 422


def test_viewer_hides_other_organisations(client, login, ctx):
    gaia = db.session.execute(select(User).filter_by(email="worker@gaia.demo")).scalar_one()
    audit.record("export", actor=gaia, details={"what": "gaia-only"})
    db.session.commit()
    login("admin@aurore.demo")
    assert "gaia-only" not in client.get("/admin/journal").get_data(as_text=True)


def test_audit_events_cannot_be_changed_or_deleted(ctx):
    event = audit.record("export", details={"n": 1})
    db.session.commit()
    event.action = "nothing"
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
