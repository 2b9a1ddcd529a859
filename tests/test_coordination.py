"""Working together (issue 21): coordination meetings with decisions followed up on dates, late
follow-ups listed, and the partners present on a shift from a reference list, shown to the
supervisor."""
import datetime as dt
import uuid

from conftest import do_login

from outreach.extensions import db
from outreach.models import AuditEvent, Organisation, PlanAction, utcnow
from outreach.site_models import CoordinationDecision, CoordinationMeeting, Partner


def _org_ids(app, *codes):
    with app.app_context():
        return [db.session.execute(db.select(Organisation.id).filter_by(code=c)).scalar_one()
                for c in codes]


def _action_id(app):
    with app.app_context():
        return db.session.execute(
            db.select(PlanAction.id).order_by(PlanAction.id)).scalars().first()


def test_coordination_meeting_is_recorded_with_organisations_and_a_decision_linked_to_an_action(
        app, client, login):
    login("manager@plan.demo")
    held = utcnow().date() - dt.timedelta(days=20)
    form = {"held_on": held.isoformat(), "title": "Comité de suivi Stalingrad",
            "organisations": _org_ids(app, "aurore", "gaia"),
            "text": "Ouvrir un espace de repos de nuit",
            "action_id": str(_action_id(app)),
            "follow_up_on": (held + dt.timedelta(days=10)).isoformat()}
    assert client.post("/coordination", data=form).status_code == 302
    with app.app_context():
        meeting = db.session.execute(db.select(CoordinationMeeting)).scalar_one()
        assert {o.code for o in meeting.organisations} == {"aurore", "gaia"}
        decision = meeting.decisions[0]
        assert decision.action_id == _action_id(app) and decision.is_late(utcnow().date())
        recorded = db.session.execute(db.select(AuditEvent).filter_by(
            action="coordination_meeting_recorded")).scalar_one()
        assert recorded.organisation_id is None  # shared: in every organisation admin's log
    page = client.get("/coordination").get_data(as_text=True)
    late = (page[page.index('id="late-follow-ups"'):page.index("</section>",
                                                               page.index('id="late-follow-ups"'))])
    assert "Ouvrir un espace de repos de nuit" in late


def test_coordination_meeting_follow_up_done_leaves_the_late_list_and_is_audited(
        app, client, login):
    login("manager@plan.demo")
    held = utcnow().date() - dt.timedelta(days=30)
    client.post("/coordination",
                data={"held_on": held.isoformat(), "title": "Réunion", "text": "Relancer l'ARS",
                      "organisations": _org_ids(app, "aurore"),
                      "follow_up_on": (held + dt.timedelta(days=7)).isoformat()})
    with app.app_context():
        decision_id = db.session.execute(db.select(CoordinationDecision.id)).scalar_one()
    assert client.post(f"/coordination/decisions/{decision_id}/fait",
                       data={"done_on": utcnow().date().isoformat()}).status_code == 302
    page = client.get("/coordination").get_data(as_text=True)
    assert f'id="late-{decision_id}"' not in page and "Aucun suivi en retard." in page
    with app.app_context():
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="coordination_decision_done")).scalar_one()


def test_coordination_meeting_refuses_bad_input_and_one_organisations_admin(app, client, login):
    login("manager@plan.demo")
    no_org = client.post("/coordination",
                         data={"held_on": "2026-11-01", "title": "Sans organisation"})
    assert no_org.status_code == 422 and "organisations" in no_org.get_data(as_text=True)
    early = client.post("/coordination",
                        data={"held_on": "2026-11-01", "title": "Suivi avant", "text": "x",
                              "organisations": _org_ids(app, "aurore"),
                              "follow_up_on": "2026-10-01"})
    assert early.status_code == 422 and "follow_up_on" in early.get_data(as_text=True)
    with app.app_context():
        assert (db.session.execute(
            db.select(db.func.count()).select_from(CoordinationMeeting)).scalar() == 0)
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")
    assert admin.get("/coordination").status_code == 200
    assert admin.post("/coordination", data={"held_on": "2026-11-01", "title": "x",
                                             "organisations": _org_ids(
                                                 app, "aurore")}).status_code == 403


def test_coordination_partners_present_on_a_shift_are_recorded_and_shown_to_the_supervisor(
        app, client, login):
    from test_sites import _api, _iso, _start_shift
    login("worker@aurore.demo")
    shift_id = _start_shift(_api(app))
    with app.app_context():
        partners = dict(db.session.execute(db.select(Partner.code, Partner.id)).all())
    page = client.get("/maraude").get_data(as_text=True)
    assert 'id="shift-partners"' in page and "Samu social / 115" in page
    chosen = {"partners": [partners["empp"], partners["police"]]}
    assert client.post(f"/maraude/{shift_id}/partenaires", data=chosen).status_code == 302
    assert client.post(f"/maraude/{shift_id}/partenaires",
                       data={"partners": [999999]}).status_code == 303
    _api(app).post(f"/api/v1/shifts/{shift_id}/close", json={"ended_at": _iso(utcnow())})
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    summary = supervisor.get(f"/revue/maraude/{shift_id}").get_data(as_text=True)
    line = summary[summary.index('id="shift-partners"'):][:300]
    assert "EMPP (psychiatrie mobile)" in line and "Police" in line
    other = app.test_client()
    do_login(other, "worker@gaia.demo")
    assert other.post(f"/maraude/{shift_id}/partenaires", data=chosen).status_code == 404
    assert other.post(f"/maraude/{uuid.uuid4()}/partenaires", data=chosen).status_code == 404
    with app.app_context():
        changed = db.session.execute(
            db.select(AuditEvent).filter_by(action="shift_partners_changed")).scalar_one()
        assert changed.after == "empp,police"


def test_coordination_meeting_late_follow_ups_show_on_the_plan_page(app, client, login):
    login("manager@plan.demo")
    held = utcnow().date() - dt.timedelta(days=30)
    form = {"held_on": held.isoformat(), "title": "Comité de suivi",
            "organisations": _org_ids(app, "aurore"),
            "text": "Rouvrir la halte de nuit",
            "follow_up_on": (held + dt.timedelta(days=7)).isoformat()}
    assert client.post("/coordination", data=form).status_code == 302
    form.update(text="Bilan des seringues ramassées",
                follow_up_on=(utcnow().date() + dt.timedelta(days=7)).isoformat())
    assert client.post("/coordination", data=form).status_code == 302
    page = client.get("/execution/").get_data(as_text=True)
    late = (page[page.index('id="late-follow-ups"'):page.index("</section>",
                                                               page.index('id="late-follow-ups"'))])
    assert "Rouvrir la halte de nuit" in late and "Bilan des seringues" not in late
    with app.app_context():
        decision = db.session.execute(db.select(CoordinationDecision)
                                      .filter_by(text="Rouvrir la halte de nuit")).scalar_one()
        decision.done_on = utcnow().date()
        db.session.commit()
    page = client.get("/execution/").get_data(as_text=True)
    late = (page[page.index('id="late-follow-ups"'):page.index("</section>",
                                                               page.index('id="late-follow-ups"'))])
    assert "Rouvrir la halte de nuit" not in late and "Aucun suivi en retard." in late
