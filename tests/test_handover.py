"""A referral handed over to another organisation (issue 21 item 4): the receiving organisation
reads the referral, the code and the "last seen" line, nothing else of the sending one (every route,
web and API, for each of its roles); the handover is in both organisations' audit trails."""
import datetime as dt
import html

import pytest
from conftest import do_login
from test_access import _routes

from outreach.extensions import db
from outreach.models import (
    AuditEvent,
    Contact,
    Organisation,
    Person,
    Referral,
    RefItem,
    Shift,
    Team,
    User,
    utcnow,
)
from outreach.security import new_api_token
from outreach.site_models import ReferralHandover

RECEIVING = ("worker@gaia.demo", "supervisor@gaia.demo", "admin@gaia.demo")
SKIP = {"static", "auth.logout", "set_language", "admin.accept"}


def _one(model, **keys):
    return db.session.execute(db.select(model).filter_by(**keys)).scalar_one()


@pytest.fixture
def sent(app):
    """Aurore's known person met on a validated shift, an ASSORE referral proposed, not yet handed
    over."""
    with app.app_context():
        team, worker = _one(Team, code="aurore_nord"), _one(User, email="worker@aurore.demo")
        day = utcnow().date() - dt.timedelta(days=3)
        started = dt.datetime(day.year, day.month, day.day, 19)
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                      started_at=started, ended_at=started + dt.timedelta(hours=3), shift_on=day,
                      status="validated",
                      validated_at=started + dt.timedelta(hours=20), staff_count=2)
        person = Person(code="c0ffee" + "9" * 58, first_seen_on=day, last_seen_on=day,
                        last_seen_team_id=team.id)
        db.session.add_all([shift, person])
        db.session.flush()
        contact = Contact(shift_id=shift.id, organisation_id=shift.organisation_id, team_id=team.id,
                          occurred_at=started, occurred_on=day, kind="known", person_id=person.id,
                          people_count=1, sex="f", age_band="26_35", created_by_id=worker.id)
        db.session.add(contact)
        db.session.flush()
        referral = Referral(contact_id=contact.id, organisation_id=shift.organisation_id,
                            person_id=person.id,
                            person_first_seen_on=day,
                            programme_id=_one(RefItem, kind="programme", code="assore").id,
                            status="proposed", proposed_on=day)
        db.session.add(referral)
        db.session.commit()
        return {"referral": referral.id, "contact": contact.id, "shift": shift.id,
                "person": person.code,
                "team": team.id, "team_name": team.name, "worker": worker.id, "day": day,
                "gaia": _one(Organisation, code="gaia").id, "aurore": team.organisation_id}


def _hand_over(app, sent, email="supervisor@aurore.demo"):
    client = app.test_client()
    do_login(client, email)
    return client, client.post(f"/orientations/{sent['referral']}/transmettre",
                               data={"to_organisation": str(sent["gaia"]),
                                     "handed_over_on": sent["day"].isoformat()})


def _handover_id(app):
    with app.app_context():
        return db.session.execute(db.select(ReferralHandover.id)).scalar_one()


def test_handover_shows_the_referral_code_and_last_seen_line_to_the_receiving_organisation(
        app, sent):
    sender, response = _hand_over(app, sent)
    assert response.status_code == 302
    assert ("Transmise à "
            "Gaïa" in sender.get(f"/orientations/{sent['referral']}").get_data(as_text=True))
    for email in RECEIVING:
        client = app.test_client()
        do_login(client, email)
        assert ("Orientations reçues d'autres organisations "
                "(1)" in client.get("/orientations/").get_data(as_text=True))
        listing = client.get("/orientations/recues").get_data(as_text=True)
        assert "ASSORE" in listing and sent["person"][:6].upper() in listing
        page = client.get(f"/orientations/recues/{_handover_id(app)}").get_data(as_text=True)
        assert "ASSORE" in page and "Proposée" in page and sent["person"][:6].upper() in page
        last_seen = page[page.index('id="last-seen"'):]
        assert "vue pour la dernière fois" in last_seen and sent["team_name"] in last_seen
    # the sending organisation's own list is unchanged; another organisation cannot hand it over
    # again
    assert _hand_over(app, sent)[1].status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ReferralHandover.id))).scalar() == 1


def test_handover_is_in_both_organisations_audit_trails(app, sent):
    _hand_over(app, sent)
    with app.app_context():
        events = {e.action: e.organisation_id for e in db.session.execute(
            db.select(AuditEvent).filter(AuditEvent.action.like("referral.handover%"))).scalars()}
    assert events == {"referral.handover_sent": sent["aurore"],
                      "referral.handover_received": sent["gaia"]}
    for email, words in (("admin@aurore.demo", "Orientation transmise à une autre organisation"),
                         ("admin@gaia.demo", "Orientation reçue d'une autre organisation")):
        client = app.test_client()
        do_login(client, email)
        journal = client.get("/admin/journal").get_data(as_text=True)
        assert words in html.unescape(journal) and "Gaïa" in journal, email


def test_the_receiving_trail_names_the_sending_organisation_never_its_user(app, sent):
    """Gaïa's trail says Aurore handed the referral over, not which Aurore user: no e-mail of
    theirs on the page, no event of Gaïa's found by filtering on it; an older row that stored the
    sender as actor is shown the same way."""
    _hand_over(app, sent)
    with app.app_context():
        received = _one(AuditEvent, action="referral.handover_received")
        assert received.actor_id is None
        db.session.add(AuditEvent(action="referral.handover_received", organisation_id=sent["gaia"],
                                  actor_id=_one(User, email="worker@aurore.demo").id,
                                  target_type="referral_handovers", target_id="1"))
        db.session.commit()
    client = app.test_client()
    do_login(client, "admin@gaia.demo")
    journal = html.unescape(client.get("/admin/journal").get_data(as_text=True))
    assert "Aurore (autre organisation)" in journal
    assert "@aurore.demo" not in journal
    found = html.unescape(client.get("/admin/journal?email=supervisor%40aurore.demo")
                          .get_data(as_text=True))
    assert "Orientation reçue" not in found.split("Entrées du journal")[-1]
    sender = app.test_client()
    do_login(sender, "admin@aurore.demo")
    assert "supervisor@aurore.demo" in sender.get("/admin/journal").get_data(as_text=True)


def test_handover_refuses_a_stranger_a_bad_target_and_a_finished_referral(app, sent):
    assert _hand_over(app, sent, "supervisor@gaia.demo")[1].status_code == 404
    client = app.test_client()
    do_login(client, "supervisor@aurore.demo")
    for target in (str(sent["aurore"]), "999999", "x", ""):
        response = client.post(f"/orientations/{sent['referral']}/transmettre",
                               data={"to_organisation": target})
        assert response.status_code == 303, target
    future = (utcnow().date() + dt.timedelta(days=3)).isoformat()
    client.post(f"/orientations/{sent['referral']}/transmettre",
                data={"to_organisation": str(sent["gaia"]), "handed_over_on": future})
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ReferralHandover.id))).scalar() == 0
        db.session.get(Referral, sent["referral"]).status = "refused"
        db.session.commit()
    assert _hand_over(app, sent)[1].status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ReferralHandover.id))).scalar() == 0


def _candidates(rule, sent, handover_id):
    """URLs of ``rule`` with every id of the sending organisation its converters can take."""
    strings = [sent["referral"], sent["contact"], sent["shift"], sent["person"]]
    ints = [str(sent["team"]), str(sent["worker"]), str(handover_id), str(sent["aurore"])]
    names = list(rule._converters)
    if not names:
        return [rule.build({}, append_unknown=False)[1]]
    urls = []
    for index in range(len(strings)):
        values = {}
        for name, converter in rule._converters.items():
            kind = type(converter).__name__
            pool = ints if kind == "IntegerConverter" else strings
            values[name] = "csv" if name == "fmt" else pool[index % len(pool)]
        urls.append(rule.build(values, append_unknown=False)[1])
    return urls


def _secrets(sent):
    return [sent["contact"], sent["shift"], sent["referral"], sent["person"]]


def test_handover_receiving_organisation_reads_nothing_else_of_the_sending_one_route_by_route(
        app, sent):
    """Every GET route, web and API, for each role of the receiving organisation, with each id of
    the sending organisation: never a contact, shift, referral id or person code; only the handover
    pages answer 200."""
    _hand_over(app, sent)
    handover_id = _handover_id(app)
    with app.app_context():
        tokens = {}
        for email in RECEIVING:
            user = _one(User, email=email)
            tokens[email] = {"Authorization": "Bearer " + new_api_token(user)}
        db.session.commit()
    checked = 0
    for email in RECEIVING:
        client = app.test_client()
        do_login(client, email)
        for rule, method in _routes(app):
            if method != "GET" or rule.endpoint in SKIP:
                continue
            for url in _candidates(rule, sent, handover_id):
                headers = tokens[email] if rule.rule.startswith("/api/") else {}
                response = client.get(url, headers=headers)
                # pages link to themselves (language)
                body = response.data.replace(url.encode(), b"")
                assert response.status_code < 500, (email, url)
                for secret in _secrets(sent):
                    assert secret.encode() not in body, (email, url, secret)
                if rule.arguments & {"referral_id", "contact_id", "shift_id", "observation_id",
                                     "team_id", "user_id"}:
                    assert response.status_code in (302, 403, 404), (email, url,
                                                                     response.status_code)
                checked += 1
    assert checked > 100


def test_the_receiving_organisation_records_no_step_of_the_referral_it_reads(app, sent):
    """DOMAIN.md: person-level data never leaves its organisation; the handover lets the receiving
    organisation follow the referral (its state, the code, the last-seen line), while the sending
    organisation keeps recording its steps. A step posted by the receiving organisation, web or
    API, is answered as an unknown referral and changes nothing; the sender records it."""
    _hand_over(app, sent)
    step = {"status": "accepted", "occurred_on": sent["day"].isoformat()}
    for email in RECEIVING:
        client = app.test_client()
        do_login(client, email)
        assert client.post(f"/orientations/{sent['referral']}/etapes",
                           data=step).status_code == 404, email
        with app.app_context():
            token = new_api_token(_one(User, email=email))
            db.session.commit()
        api = app.test_client().post(f"/api/v1/referrals/{sent['referral']}/steps", json=step,
                                     headers={"Authorization": "Bearer " + token})
        # 404 as an unknown referral; 403 for an admin, whom the API's writes do not admit
        assert api.status_code == (403 if email.startswith("admin") else 404), email
    with app.app_context():
        referral = db.session.get(Referral, sent["referral"])
        assert referral.status == "proposed" and referral.accepted_on is None
    sender = app.test_client()
    do_login(sender, "worker@aurore.demo")
    assert sender.post(f"/orientations/{sent['referral']}/etapes",
                       data=step).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Referral, sent["referral"]).status == "accepted"
