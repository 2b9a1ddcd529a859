"""A step recorded by mistake is taken back by a supervisor, with a reason, in the audit log; the
funnel follows."""
from datetime import date, timedelta

from test_referrals import (
    _catch_up,
    _client,
    _fresh,
    _status,
    _step,
    _user,
    make_referral,
)

from outreach.extensions import db
from outreach.indicators import services as indicators
from outreach.models import AuditEvent
from outreach.referrals import services


def _undo(client, referral_id, reason="refus saisi sur la mauvaise personne"):
    return client.post(f"/orientations/{referral_id}/annuler-etape", data={"undo_reason": reason})


def _no_place_refusals(app):
    today = services.today()
    month = date(today.year, today.month, 1)
    with app.app_context():
        _catch_up()
        supervisor = _user("supervisor@aurore.demo")
        funnel = indicators.funnel(indicators.Period(month, month, "month"),
                                   {"organisation_id": supervisor.organisation_id,
                                    "include_provisional": True},
                                   supervisor)  # the referral's shift is closed: provisional data
        rows = {p.code: row for p, row, _wait in funnel["programmes"]}
        return (rows["assore"][(indicators.FUNNEL_STEPS
                                + indicators.FUNNEL_EXTRA).index("refusals_no_place")])


def test_supervisor_undoes_a_wrong_refusal_and_the_referral_moves_on(app):
    today = services.today()
    rid = make_referral(
        app, days_ago=(today - max(today.replace(day=1), today - timedelta(days=2))).days)
    worker, supervisor = _client(app, "worker@aurore.demo"), _client(app, "supervisor@aurore.demo")
    assert "Terminées ces" not in supervisor.get("/orientations/").get_data(as_text=True)
    assert _step(worker, rid, "accepted", today).status_code == 302
    assert _step(worker, rid, "refused", today, "pas_de_place").status_code == 302
    assert _no_place_refusals(app) == 1
    assert ("Annuler la dernière "
            "étape" not in worker.get(f"/orientations/{rid}").get_data(as_text=True))
    # gone from the open list, found again here
    listed = supervisor.get("/orientations/").get_data(as_text=True)
    ended = listed.split('id="ended"')[1]
    assert ("Terminées ces 14 derniers jours (1)" in listed
            and f'href="/orientations/{rid}"' in ended)
    assert _undo(worker, rid).status_code == 403  # workers ask their supervisor
    page = supervisor.get(f"/orientations/{rid}").get_data(as_text=True)
    assert "Annuler la dernière étape" in page and "Annuler « Refusée »" in page

    missing = _undo(supervisor, rid, reason="  ")
    assert (missing.status_code == 422
            and "Indiquez le motif de l&#39;annulation" in missing.get_data(as_text=True))
    assert _status(app, rid) == ("refused", 3)

    response = _undo(supervisor, rid)
    assert response.status_code == 302
    assert "de nouveau « acceptée »" in supervisor.get(response.location).get_data(as_text=True)
    with app.app_context():
        referral = _fresh(rid)
        assert (referral.status, referral.refused_on,
                referral.refusal_reason_id) == ("accepted", None, None)
        assert [e.status for e in referral.events] == ["proposed", "accepted"]
        audit = db.session.execute(
            db.select(AuditEvent).filter_by(action="referral.undo_step")).scalar_one()
        assert (audit.target_id, audit.before, audit.after, audit.reason, audit.actor.email) == (
            rid, f"refused {today.isoformat()}", "accepted", "refus saisi sur la mauvaise personne",
            "supervisor@aurore.demo")
    assert _no_place_refusals(app) == 0  # the roll-ups forgot the refusal
    assert _step(worker, rid, "admitted", today).status_code == 302  # and the pathway goes on


def test_nothing_to_undo_on_a_proposal_and_other_organisations_get_404(app):
    rid = make_referral(app)
    supervisor = _client(app, "supervisor@aurore.demo")
    assert ("Annuler la dernière "
            "étape" not in supervisor.get(f"/orientations/{rid}").get_data(as_text=True))
    refused = _undo(supervisor, rid)
    assert refused.status_code == 422 and "seulement proposée" in refused.get_data(as_text=True)
    assert _status(app, rid) == ("proposed", 1)
    gaia = _client(app, "worker@gaia.demo")
    assert _undo(gaia, rid).status_code == 404
    assert _client(app, "manager@plan.demo").post(f"/orientations/{rid}/annuler-etape",
                                                  data={"undo_reason": "x"}).status_code == 403
