"""Who may change plan execution, route by route and role by role, and that every change is audited.

Statuses, milestones, budgets and estimates are the plan's (plan managers and instance admins);
places are entered by a plan manager or by the operator organisation's own admin; field roles change
nothing."""
import io

import pytest
from conftest import do_login

from outreach.extensions import db
from outreach.models import (
    ActionMilestone,
    AuditEvent,
    Organisation,
    PlanAction,
    RefItem,
)

ROLES = ("worker@aurore.demo", "supervisor@aurore.demo", "admin@aurore.demo", "admin@gaia.demo",
         "manager@plan.demo")


def _ids(app):
    with app.app_context():
        one = lambda model, **k: db.session.execute(
            db.select(model).filter_by(**k)).scalars().first()
        return {"action": one(PlanAction, number="3.3").id, "milestone": one(ActionMilestone).id,
                "assore": one(RefItem, kind="programme", code="assore").id,
                "aurore": one(Organisation, code="aurore").id}


def _routes(ids):
    """(url, form) of every POST route of plan execution, each with a valid form."""
    budget_file = "action;funder;year;planned;committed;spent\r\n3.3;ars;2022;10,00;5,00;1,00\r\n"
    return {
        "planexec.places": ("/execution/places",
                            {"programme": ids["assore"], "organisation": ids["aurore"],
                             "starts_on": "2024-05-01", "places": "12", "note": "ouverture"}),
        "planexec.action_status": (f"/execution/actions/{ids['action']}/statut",
                                   {"status": "started", "effective_on": "2024-01-01",
                                    "reason": "lancement"}),
        "planexec.milestone_add": (f"/execution/actions/{ids['action']}/jalons",
                                   {"title": "Jalon", "created_on": "2024-01-01",
                                    "due_on": "2024-06-30"}),
        "planexec.milestone_done": (f"/execution/jalons/{ids['milestone']}/fait",
                                    {"done_on": "2024-07-01"}),
        "planexec.budgets": ("/execution/budgets",
                             {"action": ids["action"], "funder": "ars", "year": "2023",
                              "planned": "1 000 €", "committed": "0", "spent": "0"}),
        "planexec.budgets_import": ("/execution/budgets/import",
                                    {"file": (io.BytesIO(budget_file.encode()), "budgets.csv")}),
        "planexec.estimates": ("/execution/estimations",
                               {"estimated_on": "2024-02-01", "area": "Paris",
                                "low": "700", "high": "800", "source": "Nuit"}),
    }


def _allowed(email, endpoint):
    if email == "manager@plan.demo":
        return True
    # its own organisation's places
    return email == "admin@aurore.demo" and endpoint == "planexec.places"


def _audited(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(AuditEvent)
                                  .where(~AuditEvent.action.in_(
                                      ("login", "login_failed")))).scalar_one()


def test_every_post_route_of_plan_execution_is_in_the_matrix(app):
    posts = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("planexec.")
             and "POST" in r.methods}
    assert posts == set(_routes(_ids(app)))


@pytest.mark.parametrize("email", ROLES)
def test_route_by_role_each_allowed_change_is_made_and_audited_each_other_refused(
        app, client, email):
    do_login(client, email)
    for endpoint, (url, form) in _routes(_ids(app)).items():
        before = _audited(app)
        response = client.post(url, data=form, content_type="multipart/form-data")
        if _allowed(email, endpoint):
            assert response.status_code == 302, (endpoint, response.get_data(as_text=True)[-500:])
            assert _audited(app) > before, endpoint
        else:
            assert response.status_code == 403, (endpoint, response.status_code)
            assert _audited(app) == before, endpoint
