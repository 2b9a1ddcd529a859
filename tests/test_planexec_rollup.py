"""The report card's roll-ups (``planexec.rollup``) give the figures of the direct reading of the
referral rows (``measures.Facts``), cell keys included, after writes through every path that
changes a referral; and the card reads them in a bounded number of statements."""

import random
from datetime import date, timedelta

import pytest
from conftest import do_login
from sqlalchemy import event
from test_planexec_places import World, _items, _one, _random_capacity, _random_history

from outreach.extensions import db
from outreach.indicators.cellkeys import MASK
from outreach.models import Referral, RefItem, User
from outreach.planexec import card, measures
from outreach.planexec.measures import Facts, Period
from outreach.planexec.rollup import RolledFacts
from outreach.reference.defaults import NO_PLACE_REFUSAL, STABLE_HOUSING_EXIT

DAY = timedelta(days=1)
STABLE = STABLE_HOUSING_EXIT
MAX_CARD_STATEMENTS = 32  # 31 in this change (24 before it, with two for the referral rows)
PERIODS = [
    Period(date(2024, 3, 10), date(2025, 2, 20)),
    Period(date(2024, 1, 1), date(2024, 12, 31)),
    Period(date(2024, 5, 3), date(2024, 5, 17)),
    Period(date(2023, 11, 15), date(2025, 4, 1)),
    Period(date(2024, 6, 30), date(2024, 7, 1)),
    Period(date(2024, 2, 1), date(2024, 3, 31)),
]


def _plain(value):
    """A figure with its cell key, comparable across the two readings."""
    if isinstance(value, measures.Tally):
        key = value.key if value.key is not None else sum(map(_record_key, value.ids))
        return ("tally", int(value), key & MASK if int(value) else 0)
    if isinstance(value, dict):
        return [(k, _plain(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _record_key(referral_id):
    from outreach.planexec.protection import record_key

    return record_key(referral_id)


def _figures(reader, ids, period, steps, no_place):
    facts = reader(ids, period)
    out = {}
    for pid in ids:
        months, total = facts.occupancy(pid, steps.get(pid, []))
        out[pid] = _plain(
            {
                "months": [(m.first, p, u) for m, p, u in months],
                "total": total,
                "stays": facts.length_of_stay(pid),
                "exits": facts.exits_by_reason(pid),
                "refusals": facts.refusals(pid, no_place),
                "returns": facts.returns_to_street(pid),
            }
        )
    return out


def _assert_same(programmes, periods=PERIODS):
    ids = [p.id for p in programmes]
    no_place = _one(RefItem, kind="refusal_reason", code=NO_PLACE_REFUSAL).id
    for period in periods:
        steps = measures.capacity_steps(ids, period.last)
        rolled, direct = (
            _figures(RolledFacts, ids, period, steps, no_place),
            _figures(Facts, ids, period, steps, no_place),
        )
        for pid in ids:
            for (name, got), (_n, expected) in zip(rolled[pid], direct[pid], strict=True):
                assert got == expected, (period, pid, name)
        assert card.places_section(programmes, period) == card.places_section(
            programmes, period, Facts
        ), period


def _programmes():
    return [i for i in _items("programme") if i.code in ("assore", "phase")]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_roll_ups_give_the_direct_figures_on_random_stays(app, seed):
    rng = random.Random(seed)
    with app.app_context(), app.test_request_context():
        world = World()
        programmes = _programmes()
        _random_history(rng, world, programmes)
        _random_capacity(rng, programmes, _one(User, email="manager@plan.demo"))
        db.session.commit()
        _assert_same(programmes)
        # corrections: dates moved across months, a programme changed, an exit undone, a deletion
        referrals = (
            db.session.execute(
                db.select(Referral).where(Referral.admitted_on.isnot(None)).order_by(Referral.id)
            )
            .scalars()
            .all()
        )
        for referral in rng.sample(referrals, 12):
            referral.admitted_on -= rng.choice([1, 20, 40]) * DAY
        for referral in rng.sample(referrals, 5):
            referral.programme_id = (
                programmes[0].id if referral.programme_id != programmes[0].id else programmes[1].id
            )
        for referral in [r for r in referrals if r.exited_on][:4]:
            referral.exited_on, referral.exit_reason_id = None, None
        for referral in rng.sample(referrals, 3):
            db.session.delete(referral)
        db.session.commit()
        _assert_same(programmes)


# --- every path that writes a referral -------------------------------------------------


def _worker_client(app, email):
    client = app.test_client()
    do_login(client, email)
    return client


def _step(client, referral_id, status, day, reason=""):
    response = client.post(
        f"/orientations/{referral_id}/etapes",
        data={"status": status, "occurred_on": day.isoformat(), "reason": reason},
    )
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]


def _api_step(client, auth, referral_id, status, day, reason=None):
    body = {
        "status": status,
        "occurred_on": day.isoformat(),
        **({"reason": reason} if reason else {}),
    }
    response = client.post(f"/api/v1/referrals/{referral_id}/steps", json=body, headers=auth)
    assert response.status_code in (200, 201), response.get_json()


def _bulk_stays(app, today):
    """Stays written the bulk way (Core rows, listener off), then the months refreshed, as imports
    do."""
    from outreach.indicators.rollups import refresh_rollups, suspended

    with app.app_context():
        world = World()
        assore = _one(RefItem, kind="programme", code="assore")
        db.session.flush()
        contact = world.contact(today - 200 * DAY)
        db.session.flush()
        rows = [
            {
                "id": f"bulk-{i:04d}",
                "contact_id": contact.id,
                "organisation_id": world.team.organisation_id,
                "programme_id": assore.id,
                "status": "admitted",
                "proposed_on": today - (150 - i) * DAY,
                "admitted_on": today - (150 - 3 * i) * DAY,
                "updated_at": contact.occurred_at,
            }
            for i in range(30)
        ]
        with suspended():
            db.session.execute(db.insert(Referral), rows)
        refresh_rollups(db.session, months=sorted({r["admitted_on"] for r in rows}))
        db.session.commit()


def _encounter_stay(app, client):
    from test_api_write import _token, encounter_body, shift_body

    worker = {"Authorization": "Bearer " + _token(app, "worker@aurore.demo")}
    assert (
        client.post(
            "/api/v1/shifts", json=shift_body(sectors=["stalingrad"]), headers=worker
        ).status_code
        == 201
    )
    body = encounter_body(
        occurred_at="2026-11-27T22:10:00Z",
        sector="stalingrad",
        person={"digest": "d" * 64, "weak": False},
        referrals=[{"programme": "phase"}],
    )
    assert client.post("/api/v1/encounters", json=body, headers=worker).status_code == 201
    [referral] = client.get(f"/api/v1/encounters/{body['id']}", headers=worker).json["referrals"]
    for status, day in (("accepted", "2026-11-28"), ("admitted", "2026-11-29")):
        step = client.post(
            referral["steps_url"], headers=worker, json={"status": status, "occurred_on": day}
        )
        assert step.status_code == 201, step.json


def test_the_roll_ups_follow_every_path_that_writes_a_referral(app):
    from test_referrals import make_referral
    from test_referrals_api import _auth

    from outreach.referrals.services import today as local_today

    today = local_today()
    web = _worker_client(app, "worker@aurore.demo")
    auth, api = _auth(app), app.test_client()
    stayed = make_referral(app, days_ago=90, person_code="f" * 64)  # the web form, to an exit
    _step(web, stayed, "accepted", today - 80 * DAY)
    _step(web, stayed, "admitted", today - 70 * DAY)
    _step(web, stayed, "exited", today - 10 * DAY, STABLE)
    admitted = make_referral(app, days_ago=60)  # the JSON API (the offline queue's path too)
    _api_step(api, auth, admitted, "accepted", today - 50 * DAY)
    _api_step(api, auth, admitted, "admitted", today - 45 * DAY)
    _api_step(
        api, auth, make_referral(app, days_ago=30), "refused", today - 25 * DAY, NO_PLACE_REFUSAL
    )
    undone = make_referral(app, days_ago=40)  # a correction: the admission undone
    _step(web, undone, "accepted", today - 35 * DAY)
    _step(web, undone, "admitted", today - 30 * DAY)
    supervisor = _worker_client(app, "supervisor@aurore.demo")
    assert (
        supervisor.post(
            f"/orientations/{undone}/annuler-etape",
            data={"undo_reason": "admission saisie sur la mauvaise personne"},
        ).status_code
        == 302
    )
    handed = make_referral(app, days_ago=20, status="admitted", person_code="e" * 64)  # handed over
    response = supervisor.post(
        f"/orientations/{handed}/transmettre",
        data={
            "to_organisation": str(_org_id(app, "gaia")),
            "handed_over_on": (today - 5 * DAY).isoformat(),
        },
    )
    assert response.status_code in (200, 302)
    _encounter_stay(
        app, api
    )  # the offline queue's path: an encounter with a referral, then its steps
    _bulk_stays(app, today)
    with app.app_context(), app.test_request_context():
        programmes = [i for i in _items("programme")]
        year = card.parse_period({}, today)
        _assert_same(
            programmes,
            [year, Period(today - 100 * DAY, today), Period(today.replace(day=1), today)],
        )
        completed = card.places_section(programmes, year, RolledFacts)
        assert any(p["has_stays"] for p in completed)


def _org_id(app, code):
    from outreach.models import Organisation

    with app.app_context():
        return _one(Organisation, code=code).id


# --- what the card costs ----------------------------------------------------------------


def test_the_report_card_reads_a_bounded_number_of_statements(app, client):
    """Every section of a year's card (statuses, budgets, places and occupancy, stays, exits,
    returns, coverage) in a fixed number of statements, whatever the number of stays, programmes
    or months."""
    do_login(client, "manager@plan.demo")
    url = "/execution/?from=2024-03-10&to=2025-02-20"
    assert client.get(url).status_code == 200  # warm: the reference lists, the roll-ups caught up
    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) <= MAX_CARD_STATEMENTS, len(seen)
