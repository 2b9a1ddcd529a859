"""Monthly sign-off chain (issue 21 item 5): the organisation's admin signs a month once its shifts
are validated; a plan manager accepts it or returns it with a comment the organisation reads; an
accepted month refuses corrections until reopened with a reason, audited; the dashboard and the
exports label each month."""
import datetime as dt
import io

import pytest
from conftest import do_login
from openpyxl import load_workbook

from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators.services import month_label
from outreach.models import AuditEvent, Contact, Organisation, Shift, Team, User, utcnow
from outreach.signoff.services import month_states, recent_months
from outreach.site_models import MonthSignoff


def _month():
    """A finished month inside the dashboard's last 12 (two months ago)."""
    return recent_months()[1]


def _shift(team_code, day, status="validated"):
    team = db.session.execute(db.select(Team).filter_by(code=team_code)).scalar_one()
    user = db.session.execute(db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
    started = dt.datetime(day.year, day.month, day.day, 19)
    shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=user.id,
                  started_at=started,
                  ended_at=started + dt.timedelta(hours=3),
                  closed_at=started + dt.timedelta(hours=3), shift_on=day,
                  status=status, staff_count=2,
                  validated_at=started + dt.timedelta(hours=20) if status == "validated" else None)
    db.session.add(shift)
    db.session.flush()
    return shift


@pytest.fixture
def month_world(app):
    """Aurore: two shifts in the month, one validated with an anonymous contact, one only closed."""
    month = _month()
    with app.app_context():
        done = _shift("aurore_nord", month + dt.timedelta(days=2))
        pending = _shift("aurore_est", month + dt.timedelta(days=9), status="closed")
        contact = Contact(shift_id=done.id, organisation_id=done.organisation_id,
                          team_id=done.team_id,
                          occurred_at=done.started_at, occurred_on=done.shift_on, kind="anonymous",
                          people_count=3, created_by_id=done.opened_by_id)
        db.session.add(contact)
        db.session.commit()
        org_id = done.organisation_id
        return {"month": month, "org": org_id, "pending": pending.id, "contact": contact.id,
                "url": f"/mois/{org_id}/{month.isoformat()[:7]}"}


def _status(app, w):
    with app.app_context():
        row = db.session.execute(db.select(MonthSignoff).filter_by(
            organisation_id=w["org"], month=w["month"])).scalar_one_or_none()
        return row.status if row else "provisional"


def _correct(client, w, people="4"):
    return client.post(f"/revue/contact/{w['contact']}/corriger",
                       data={"field": "people_count", "value": people, "reason": "recompté"})


def _row(page, w):
    start = page.index(f'id="month-{w["org"]}-{w["month"].isoformat()[:7]}"')
    return page[start:page.index("</tr>", start)]


def test_sign_off_chain_end_to_end_with_a_return_and_a_reopening(app, month_world):
    w = month_world
    admin, manager, supervisor = app.test_client(), app.test_client(), app.test_client()
    do_login(admin, "admin@aurore.demo")
    do_login(manager, "manager@plan.demo")
    do_login(supervisor, "supervisor@aurore.demo")

    # a month with a shift not yet validated cannot be signed
    refused = admin.post(w["url"] + "/signer")
    assert refused.status_code == 422 and "pas encore validées" in refused.get_data(as_text=True)
    assert "1 maraude(s) à valider" in _row(admin.get("/mois/").get_data(as_text=True), w)
    with app.app_context():
        shift = db.session.get(Shift, w["pending"])
        shift.status, shift.validated_at = "validated", utcnow()
        db.session.commit()
    assert admin.post(w["url"] + "/signer").status_code == 302
    assert _status(app, w) == "signed_off"

    # signed: a correction is refused until the plan answers, and the page says why
    refused = _correct(supervisor, w)
    assert refused.status_code == 403 and "rouvert" in refused.get_data(as_text=True)

    # the plan manager returns it with a comment: required, then read by the organisation
    assert manager.post(w["url"] + "/renvoyer", data={"comment": " "}).status_code == 422
    assert manager.post(w["url"] + "/renvoyer",
                        data={"comment": "Le 3 : trois personnes en passage anonyme "
                                         "?"}).status_code == 302
    assert _status(app, w) == "returned"
    row = _row(supervisor.get("/mois/").get_data(as_text=True), w)
    assert "Renvoyé" in row and "Le 3 : trois personnes en passage anonyme ?" in row

    # returned: the organisation fixes, the admin signs again, the manager accepts
    assert _correct(supervisor, w).status_code == 302
    assert admin.post(w["url"] + "/signer").status_code == 302
    assert manager.post(w["url"] + "/accepter").status_code == 302
    assert _status(app, w) == "accepted"
    assert "Accepté" in _row(supervisor.get("/mois/").get_data(as_text=True), w)

    # accepted: corrections and un-validations are refused, nothing changes
    assert _correct(supervisor, w, "5").status_code == 403
    assert supervisor.post(f"/revue/maraude/{w['pending']}/devalider",
                           data={"reason": "erreur"}).status_code == 403
    with app.app_context():
        assert db.session.get(Contact, w["contact"]).people_count == 4
        assert db.session.get(Shift, w["pending"]).status == "validated"

    # reopening needs a reason; then corrections are possible again
    assert admin.post(w["url"] + "/rouvrir", data={"reason": ""}).status_code == 422
    assert _status(app, w) == "accepted"
    assert admin.post(w["url"] + "/rouvrir",
                      data={"reason": "Erreur de comptage signalée"}).status_code == 302
    assert _status(app, w) == "provisional"
    assert _correct(supervisor, w, "5").status_code == 302

    with app.app_context():
        trail = db.session.execute(db.select(AuditEvent).filter(AuditEvent.action.like("month.%"))
                                   .order_by(AuditEvent.id)).scalars().all()
        assert [e.action for e in trail] == ["month.sign_off", "month.return", "month.sign_off",
                                             "month.accept", "month.reopen"]
        assert {e.organisation_id for e in trail} == {w["org"]}
        assert trail[1].reason.startswith("Le "
                                          "3") and trail[-1].reason == "Erreur de comptage signalée"
    journal = admin.get("/admin/journal").get_data(as_text=True)
    assert "Mois rouvert" in journal and "Erreur de comptage signalée" in journal


def test_sign_off_steps_belong_to_their_roles_and_organisations(app, month_world):
    w = month_world
    with app.app_context():
        shift = db.session.get(Shift, w["pending"])
        shift.status, shift.validated_at = "validated", utcnow()
        db.session.commit()
    for email, step, status in [("supervisor@aurore.demo", "/signer", 403),
                                ("admin@gaia.demo", "/signer", 404),
                                ("admin@aurore.demo", "/accepter", 403),
                                ("worker@aurore.demo", "/signer", 403)]:
        client = app.test_client()
        do_login(client, email)
        assert client.post(w["url"] + step).status_code == status, (email, step)
    gaia = app.test_client()
    do_login(gaia, "admin@gaia.demo")
    assert f'id="month-{w["org"]}-' not in gaia.get("/mois/").get_data(as_text=True)
    manager = app.test_client()
    do_login(manager, "manager@plan.demo")
    assert manager.post(w["url"] + "/accepter").status_code == 422  # nothing signed yet
    assert manager.post(f"/mois/{w['org']}/2026-13/accepter").status_code == 404
    current = local_today().replace(day=1).isoformat()[:7]
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")
    assert admin.post(f"/mois/{w['org']}/{current}/signer").status_code == 422  # not finished


def test_sign_off_states_label_each_month_on_the_dashboard_and_in_the_exports(app, month_world):
    w = month_world
    with app.app_context():
        shift = db.session.get(Shift, w["pending"])
        shift.status, shift.validated_at = "validated", utcnow()
        db.session.add(MonthSignoff(organisation_id=w["org"], month=w["month"], status="accepted"))
        db.session.commit()
        states = month_states(recent_months(), w["org"])
        assert states[w["month"]] == "accepted" and states[recent_months()[0]] == "provisional"
        code = db.session.get(Organisation, w["org"]).code
    manager = app.test_client()
    do_login(manager, "manager@plan.demo")
    page = manager.get(f"/indicateurs?organisation={code}").get_data(as_text=True)
    assert 'id="month-states"' in page
    states_block = (page[page.index('id="month-states"'):page.index(
        "</section>", page.index('id="month-states"'))])
    assert states_block.count('data-state="accepted"') == 1
    assert states_block.count('data-state="provisional"') == 11
    with app.app_context():
        accepted_label = month_label(w["month"])
    csv = manager.get(f"/export/indicateurs.csv?organisation={code}").get_data(as_text=True)
    header, first = csv.splitlines()[:2]
    assert header.endswith("État des mois")
    assert f"{accepted_label} : Accepté" in first and "Provisoire" in first
    book = load_workbook(
        io.BytesIO(manager.get(f"/export/indicateurs.xlsx?organisation={code}").data))
    rows = list(book.worksheets[1].iter_rows(values_only=True))
    column = [str(c) for c in rows[0]].index("État des mois")
    assert all(f"{accepted_label} : Accepté" in row[column] for row in rows[1:] if row[0])


def test_sign_off_states_reach_the_read_api_the_indicator_export_by_month_and_open_data(
        app, month_world, tmp_path):
    """The month a plan manager accepted is "accepted" in the read API (codes in the OpenAPI
    document), "Accepté" beside its value in the indicator's export by month and in the open-data
    file; the other months say provisional."""
    import sqlite3

    from outreach.api.openapi import document
    from outreach.exports.snapshot import write_snapshot
    from outreach.indicators import services as ind
    from outreach.security import new_api_token
    w = month_world
    with app.app_context():
        shift = db.session.get(Shift, w["pending"])
        shift.status, shift.validated_at = "validated", utcnow()
        db.session.add(MonthSignoff(organisation_id=w["org"], month=w["month"], status="accepted"))
        manager = db.session.execute(
            db.select(User).filter_by(email="manager@plan.demo")).scalar_one()
        token = new_api_token(manager)
        db.session.commit()
        label = month_label(w["month"])
        months = recent_months()
    text = w["month"].isoformat()[:7]
    answer = app.test_client().get(
        f"/api/v1/indicators?from={months[-1].isoformat()[:7]}&to={months[0].isoformat()[:7]}"
        "&indicator=contacts", headers={"Authorization": f"Bearer {token}"}).json
    states = {m["month"]: m["state"] for m in answer["month_states"]}
    assert states[text] == "accepted" and set(states.values()) == {"accepted", "provisional"}
    schema = document()["components"]["schemas"]["IndicatorValues"]["properties"]["month_states"]
    assert schema["items"]["properties"]["state"]["enum"] == ["provisional", "signed_off",
                                                              "accepted"]
    assert all(code in schema["description"] for code in ("provisional", "signed_off", "accepted"))
    client = app.test_client()
    do_login(client, "manager@plan.demo")
    csv = client.get("/export/indicateurs/contacts.csv?by=month").get_data(as_text=True)
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].endswith("État du mois")
    assert next(line for line in lines if line.startswith(label)).endswith(";Accepté")
    assert sum(line.endswith(";Provisoire") for line in lines) == len(months) - 1
    path = tmp_path / "open.db"
    with app.app_context():
        write_snapshot(str(path), ind.Period(months[-1], months[0]))
    rows = dict(sqlite3.connect(str(path)).execute(
        "select month, month_state from indicator_by_month where indicator = 'contacts'"))
    assert rows[w["month"].isoformat()] == "Accepté"
    assert sorted(set(rows.values())) == ["Accepté", "Provisoire"]


def test_sign_off_demo_seed_covers_every_state_and_a_handover(app):
    from outreach.indicators.synthetic import build_demo_history
    from outreach.site_models import CoordinationMeeting, ReferralHandover
    from outreach.sites.seed import seed_after_history
    with app.test_request_context():
        build_demo_history(today=local_today(), per_day=2)
        seed_after_history()
        db.session.commit()
        again = seed_after_history()  # idempotent
        db.session.commit()
        rows = db.session.execute(db.select(MonthSignoff)).scalars().all()
        assert {r.status for r in rows} == {"signed_off", "returned", "accepted", "provisional"}
        assert any(r.status == "provisional" and r.reopen_reason for r in rows)
        assert all(r.comment for r in rows if r.status == "returned")
        assert again == "demo sign-offs: 0 months"
        assert db.session.execute(db.select(db.func.count(ReferralHandover.id))).scalar() == 1
        assert db.session.execute(db.select(db.func.count(CoordinationMeeting.id))).scalar() == 3


def test_sign_off_an_accepted_month_takes_no_imported_contact_until_reopened(app, month_world):
    """An import is not a correction, but it changes a month's figures just as much: a file with a
    row in an accepted month is refused whole (naming the line and the month's state), nothing is
    written; once the month is reopened the same file imports."""
    w = month_world
    with app.app_context():
        db.session.add(MonthSignoff(organisation_id=w["org"], month=w["month"], status="accepted"))
        db.session.commit()
    day = (w["month"] + dt.timedelta(days=3)).isoformat()
    other = (recent_months()[3] + dt.timedelta(days=3)).isoformat()  # a provisional month
    header = "date;time;team;sector;kind;people_count;sex;age_band;living_situation;products;" \
             "needs;materials;orientation;accompanied;programme;digest"
    text = "\r\n".join([header, f"{other};21:00;aurore_nord;;anonymous;2;;;;;;;;;;",
                        f"{day};21:40;aurore_nord;;anonymous;2;;;;;;;;;;"]) + "\r\n"
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")

    def post():
        return admin.post("/import", data={"file": (io.BytesIO(text.encode()), "contacts.csv")},
                          content_type="multipart/form-data")

    def contacts():
        with app.app_context():
            return db.session.execute(db.select(db.func.count(Contact.id))).scalar()

    before = contacts()
    refused = post()
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "accepté" in page and "rouvert" in page
    assert contacts() == before
    with app.app_context():
        row = db.session.execute(
            db.select(MonthSignoff).filter_by(organisation_id=w["org"])).scalar_one()
        row.status = "provisional"
        db.session.commit()
    assert post().status_code in (302, 303)
    assert contacts() == before + 2
