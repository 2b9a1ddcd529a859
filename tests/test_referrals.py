"""Referral lifecycle: dated steps by whom, allowed transitions only, organisation scope, open list,
funnel."""
import re
from datetime import date, datetime, timedelta
from html import unescape

import pytest
from conftest import do_login
from flask_babel import format_date
from werkzeug.exceptions import NotFound

from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.indicators import rollups
from outreach.indicators import services as indicators
from outreach.models import (
    Contact,
    Person,
    Referral,
    ReferralEvent,
    RefItem,
    Shift,
    Team,
    User,
)
from outreach.referrals import services
from outreach.shifts.services import local_clock


def _user(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _item(kind, code):
    return db.session.execute(db.select(RefItem).filter_by(kind=kind, code=code)).scalar_one()


def make_referral(app, days_ago=0, programme="assore", team_code="aurore_nord", status="proposed",
                  person_code=None, shift_status="closed"):
    """A referral proposed ``days_ago`` days ago during a shift of ``team_code`` (its own shift and
    contact)."""
    with app.app_context():
        return _make_referral(days_ago, programme, team_code, status, person_code, shift_status)


def _make_referral(days_ago, programme, team_code, status, person_code, shift_status):
    team = db.session.execute(db.select(Team).filter_by(code=team_code)).scalar_one()
    worker = db.session.execute(db.select(User).filter_by(organisation_id=team.organisation_id,
                                                          role="worker")).scalars().first()
    day = services.today() - timedelta(days=days_ago)
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=19)
    shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                  started_at=start, ended_at=start + timedelta(hours=3), shift_on=day,
                  status=shift_status)
    person = None
    if person_code:
        person = Person(code=person_code, first_seen_on=day)
    contact = Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                      occurred_at=start,
                      occurred_on=day, kind="known" if person else "anonymous", person=person,
                      created_by_id=worker.id)
    referral = Referral(organisation_id=team.organisation_id, person=person,
                        programme=_item("programme", programme), status=status, proposed_on=day,
                        accepted_on=day if status in ("accepted", "admitted", "exited") else None,
                        admitted_on=day if status in ("admitted", "exited") else None,
                        refused_on=day if status == "refused" else None,
                        exited_on=day if status == "exited" else None)
    referral.events.append(
        ReferralEvent(status="proposed", occurred_on=day, recorded_by_id=worker.id))
    contact.referrals.append(referral)
    db.session.add(contact)
    db.session.commit()
    return referral.id


def _client(app, email):
    client = app.test_client()
    do_login(client, email)
    return client


def _step(client, referral_id, status, occurred_on="", reason=""):
    return client.post(f"/orientations/{referral_id}/etapes",
                       data={"status": status, "occurred_on": str(occurred_on), "reason": reason})


def _fresh(referral_id):
    db.session.expire_all()
    return db.session.get(Referral, referral_id)


def _status(app, referral_id):
    """(status, number of events) of a referral, read in a context of its own."""
    with app.app_context():
        referral = _fresh(referral_id)
        return referral.status, len(referral.events)


def test_full_lifecycle_is_dated_says_who_and_goes_on_after_validation(app):
    # steps are new facts, not corrections
    rid = make_referral(app, days_ago=20, shift_status="validated")
    worker, supervisor = _client(app, "worker@aurore.demo"), _client(app, "supervisor@aurore.demo")
    today = services.today()
    accepted, admitted = today - timedelta(days=15), today - timedelta(days=10)
    response = _step(worker, rid, "accepted", accepted)
    assert response.status_code == 302
    with app.test_request_context():
        # "1 déc. 2026"
        said = f"Orientation hébergement ASSORE : acceptée le {format_date(accepted)}."
    assert said in worker.get(response.location).get_data(as_text=True)
    replay = _step(worker, rid, "accepted", accepted)  # the same form sent twice
    assert (replay.status_code == 302
            and "déjà enregistrée" in worker.get(replay.location).get_data(as_text=True))
    assert _step(supervisor, rid, "admitted", admitted).status_code == 302
    # date defaults to today
    assert _step(worker, rid, "exited", "", "logement_stable").status_code == 302
    with app.app_context():
        referral = _fresh(rid)
        assert (referral.status, referral.accepted_on, referral.admitted_on,
                referral.exited_on) == ("exited", accepted, admitted, today)
        assert referral.exit_reason.code == "logement_stable"
        steps = [(e.status, e.occurred_on, e.recorded_by.email, e.reason and e.reason.code)
                 for e in referral.events]
    assert steps == [("proposed", today - timedelta(days=20), "worker@aurore.demo", None),
                     ("accepted", accepted, "worker@aurore.demo", None),
                     ("admitted", admitted, "supervisor@aurore.demo", None),
                     ("exited", today, "worker@aurore.demo", "logement_stable")]
    page = worker.get(f"/orientations/{rid}").get_data(as_text=True)
    assert "saisi par supervisor@aurore.demo" in page and "Logement / hébergement stable" in page
    assert "Orientation terminée" in page and 'name="status"' not in page


# (steps recorded first, bad step, field named in the answer); offsets in days before today
BAD_STEPS = [
    ([], ("admitted", 0, ""), "Étape"),
    ([], ("exited", 0, "relais"), "Étape"),
    ([], ("proposed", 0, ""), "Étape"),
    ([], ("archived", 0, ""), "Étape"),
    ([("refused", 0, "hors_criteres")], ("accepted", 0, ""), "Étape"),
    ([("accepted", 0, "")], ("accepted", 1, ""), "Étape"),
    ([], ("refused", 0, ""), "Motif"),
    ([], ("refused", 0, "relais"), "Motif"),
    ([], ("accepted", 0, "pas_de_place"), "Motif"),
    ([("accepted", 0, ""), ("admitted", 0, "")], ("exited", 0, "pas_de_place"), "Motif"),
    ([], ("accepted", -1, ""), "Date"),
    ([], ("accepted", 6, ""), "Date"),
    ([], ("accepted", "31/12/2026", ""), "Date"),
]


def test_forbidden_steps_are_4xx_naming_the_field_and_write_nothing(app):
    client = _client(app, "worker@aurore.demo")
    today = services.today()

    def day(offset):
        return offset if isinstance(offset, str) else today - timedelta(days=offset)
    for steps, bad, field in BAD_STEPS:
        rid = make_referral(app, days_ago=5)
        for status, offset, reason in steps:
            assert _step(client, rid, status, day(offset), reason).status_code == 302
        before = _status(app, rid)
        response = _step(client, rid, bad[0], day(bad[1]), bad[2])
        assert response.status_code == 422, (steps, bad)
        assert f">{field}</a> :" in response.get_data(as_text=True), (steps, bad)
        assert _status(app, rid) == before == (before[0], 1 + len(steps))
    rid = make_referral(app, days_ago=2)
    with app.app_context():  # the service itself, as the API would call it
        worker, relais = _user("worker@aurore.demo"), _item("exit_reason", "relais").id
        for status, when, reason, field in [("admitted", today, None, "status"),
                                            ("accepted", "not a date", None, "occurred_on"),
                                            ("accepted", today, relais, "reason"),
                                            ("refused", today, "x", "reason"),
                                            ("refused", today, relais, "reason")]:
            with pytest.raises(ValidationError) as caught:
                services.advance_referral(_fresh(rid), worker, status, when, reason)
            assert list(caught.value.errors) == [field]
            db.session.rollback()
    assert _status(app, rid) == ("proposed", 1)


def test_no_place_refusal_is_always_recordable(app):
    with app.app_context():
        for code in ("pas_de_place", "hors_criteres"):  # an admin deactivated both reasons
            _item("refusal_reason", code).is_active = False
        db.session.commit()
    first, second = make_referral(app, days_ago=3), make_referral(app, days_ago=3,
                                                                  programme="phase")
    client = _client(app, "worker@aurore.demo")
    page = client.get(f"/orientations/{first}").get_data(as_text=True)
    assert "Pas de place disponible" in page and "Hors critères" not in page
    assert _step(client, first, "refused", "", "hors_criteres").status_code == 422
    assert _step(client, first, "refused", "", "pas_de_place").status_code == 302
    assert _step(client, second, "accepted").status_code == 302
    # also after acceptance
    assert _step(client, second, "refused", "", "pas_de_place").status_code == 302
    with app.app_context():
        for rid in (first, second):
            referral = _fresh(rid)
            assert (referral.status, referral.refusal_reason.code, referral.refused_on) == (
                "refused", "pas_de_place", services.today())


def test_another_organisation_gets_404_and_a_plan_manager_403(app):
    rid = make_referral(app)
    gaia = _client(app, "worker@gaia.demo")
    assert gaia.get(f"/orientations/{rid}").status_code == 404
    assert _step(gaia, rid, "accepted").status_code == 404
    assert rid not in gaia.get("/orientations/").get_data(as_text=True)
    manager = _client(app, "manager@plan.demo")
    assert manager.get("/orientations/").status_code == 403
    assert manager.get(f"/orientations/{rid}").status_code == 403
    assert _step(manager, rid, "accepted").status_code == 403
    assert _status(app, rid) == ("proposed", 1)
    admin = _client(app, "admin@aurore.demo")  # an organisation's admin acts as its supervisors
    assert rid in admin.get("/orientations/").get_data(as_text=True)
    with app.app_context():
        with pytest.raises(NotFound):
            services.advance_referral(_fresh(rid), _user("worker@gaia.demo"), "accepted",
                                      services.today())
        with pytest.raises(Forbidden):
            services.open_referrals(_user("manager@plan.demo"))


def test_list_shows_only_the_organisations_open_referrals_and_flags_stale_ones(app):
    open_ids = [make_referral(app, 1, status=s, person_code=f"{i + 1}" * 64) for i, s in
                enumerate(("proposed", "accepted", "admitted"))]
    closed = [make_referral(app, 1, status=s) for s in ("refused", "exited")]
    elsewhere = make_referral(app, 1, team_code="gaia_mobile")
    est = make_referral(app, 0, programme="phase", team_code="aurore_est")
    html = _client(app, "worker@aurore.demo").get("/orientations/").get_data(as_text=True)
    open_list, ended = (html.split('id="referrals"')[1].split("</ul>")[0],
                        html.split('id="ended"')[1])
    for rid in open_ids + [est]:
        assert f"/orientations/{rid}" in open_list
    for rid in closed + [elsewhere]:
        assert f"/orientations/{rid}" not in open_list
    assert all(f"/orientations/{rid}" in ended for rid in closed)  # ended lately: listed apart
    assert elsewhere not in html
    assert "111111" in html and "Maraude Est (19e)" in html  # short code and team
    # proposals first
    assert html.index(open_ids[0]) < html.index(open_ids[1]) < html.index(open_ids[2])
    client = _client(app, "supervisor@aurore.demo")
    only_phase = client.get("/orientations/?programme=phase").get_data(as_text=True)
    assert est in only_phase and open_ids[0] not in only_phase
    only_admitted = client.get("/orientations/?status=admitted").get_data(as_text=True)
    assert open_ids[2] in only_admitted and open_ids[0] not in only_admitted
    bad = client.get("/orientations/?status=exited")
    assert bad.status_code == 400 and ">État</a> :" in bad.get_data(as_text=True)
    bad = client.get("/orientations/?programme=nope")
    assert bad.status_code == 400 and ">Dispositif</a> :" in bad.get_data(as_text=True)
    old, recent = make_referral(app, days_ago=10), make_referral(app, days_ago=7)
    with app.app_context():
        rows = {r.referral.id: (r.days_since, r.is_stale)
                for r in services.open_referrals(_user("worker@aurore.demo"))}
    assert (rows[old], rows[recent]) == ((10, True), (7, False))
    html = _client(app, "worker@aurore.demo").get("/orientations/").get_data(as_text=True)
    assert html.count("stale-flag") == 1 and "Sans nouvelles depuis 10 jours" in html
    row = html[html.index(old):]
    assert row.index("stale-flag") < row.index("</li>")


def _rows(html):
    """The open list's rows as a person reads them, in order."""
    body = html.split('id="referrals"')[1].split("</ul>")[0]
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip()
            for row in re.findall(r'<li class="referral-row[^"]*">(.*?)</li>', body, re.DOTALL)]


def test_open_referrals_can_be_told_apart_and_what_needs_action_comes_first(app):
    waiting = make_referral(app, 2, person_code="ab12cd" + "0" * 58)
    anonymous = make_referral(app, 1, programme="phase", team_code="aurore_est", status="accepted")
    staying = make_referral(app, 20, status="admitted", person_code="ef34" + "0" * 60)
    stale = make_referral(app, 10, programme="siao_115", person_code="9" * 64)
    html = _client(app, "worker@aurore.demo").get("/orientations/").get_data(as_text=True)
    rows = _rows(html)
    with app.test_request_context(), app.app_context():
        day = {rid: format_date(db.session.get(Referral, rid).proposed_on)
               for rid in (waiting, anonymous, staying,
                            stale)}
        met = db.session.get(Referral, anonymous).contact.occurred_at
        met_on, met_at = format_date(met), local_clock(met)
    order = [html.index(f"/orientations/{rid}") for rid in (stale, waiting, anonymous, staying)]
    assert order == sorted(order)  # stale, then proposed, accepted, admitted
    assert rows[0].startswith("115 / SIAO · 999999 Proposée Sans nouvelles depuis 10 jours")
    assert rows[1] == f"ASSORE · AB12CD Proposée Maraude Nord (18e) · proposée le {day[waiting]}"
    assert rows[2] == (f"PHASE · rencontre du {met_on} à {met_at} Acceptée Maraude Est (19e) · "
                       f"proposée le {day[anonymous]} · acceptée le {day[anonymous]}")
    assert "Sans nouvelles" not in rows[3]  # a stay in place waits for nobody


def test_referral_pages_write_dates_in_words_and_say_orientation_hebergement(app):
    rid = make_referral(app, 3, status="accepted")
    ended = make_referral(app, 1, status="refused", person_code="7" * 64)
    worker = _client(app, "worker@aurore.demo")
    for url in ("/orientations/", f"/orientations/{rid}", f"/orientations/{ended}"):
        html = worker.get(url).get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", html.split("<main")[1].split("</main>")[0])
        assert not re.search(r"\b\d{4}-\d\d-\d\d\b|\b\d\d/\d\d/\d{4}\b|\(\d+ j\)", text), url
        assert "Orientation" in text and "hébergement" in text, url
    nav = worker.get("/orientations/").get_data(as_text=True).split("<nav")[1].split("</nav>")[0]
    assert "Orientations hébergement" in nav and "Orientations en cours" not in nav


def _catch_up():
    """Run the roll-ups' deferred work when the module has such a step (another change may add a
    queue)."""
    for name in ("process_pending", "drain_pending", "catch_up", "flush_pending", "run_pending"):
        if hasattr(rollups, name):
            getattr(rollups, name)(db.session)
            db.session.commit()


def test_funnel_counts_admissions_and_no_place_refusals(app):
    today = services.today()
    month = date(today.year, today.month, 1)
    day = max(month, today - timedelta(days=1))
    ids = [make_referral(app, days_ago=(today - day).days) for _ in range(3)]
    client = _client(app, "worker@aurore.demo")
    for rid in ids[:2]:
        assert _step(client, rid, "accepted", day).status_code == 302
    assert _step(client, ids[0], "admitted", day).status_code == 302
    assert _step(client, ids[1], "refused", day, "pas_de_place").status_code == 302
    assert _step(client, ids[2], "refused", day, "pas_de_place").status_code == 302
    with app.app_context():
        _catch_up()
        supervisor = _user("supervisor@aurore.demo")
        period = indicators.Period(month, month, "month")
        scope = {"organisation_id": supervisor.organisation_id}
        validated_only = indicators.funnel(period, scope, supervisor)
        funnel = indicators.funnel(period, {**scope, "include_provisional": True}, supervisor)
        rows = {p.code: row for p, row, _wait in funnel["programmes"]}
    # the referrals were recorded in closed shifts: provisional data, like the contacts of those
    # shifts
    assert [s.value for s in validated_only["shelter"][:3]] == [0, 0, 0]
    assert [s.value for s in funnel["shelter"][:3]] == [3, 2, 1]  # proposed, accepted, admitted
    steps = indicators.FUNNEL_STEPS + indicators.FUNNEL_EXTRA
    assert rows["assore"][steps.index("admissions")] == 1
    assert rows["assore"][steps.index("refusals_no_place")] == 2
    assert rows["assore"][steps.index("referrals_refused")] == 2
    assert rows["phase"][steps.index("admissions")] == 0
