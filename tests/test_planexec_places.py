"""Places and occupancy: the measures against a naive day-by-day reference on random stays and
capacity changes, overlapping stays refused at admission, and the capacity register's rights,
errors and audit."""
import html
import random
import statistics
from datetime import date, datetime, timedelta

import pytest
from conftest import do_login

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.models import (
    AuditEvent,
    Contact,
    Organisation,
    Person,
    PlaceCapacity,
    Referral,
    RefItem,
    Shift,
    Team,
    User,
)
from outreach.planexec import measures
from outreach.planexec.measures import Period
from outreach.referrals import services as referrals

DAY = timedelta(days=1)
PERIOD = Period(date(2024, 3, 10), date(2025, 2, 20))  # partial first and last months


def _one(model, **keys):
    return db.session.execute(db.select(model).filter_by(**keys)).scalar_one()


class World:
    """One shift of aurore_nord that every test contact and referral hangs on (dates set per
    row)."""

    def __init__(self):
        self.team = _one(Team, code="aurore_nord")
        self.worker = _one(User, email="worker@aurore.demo")
        start = datetime(2024, 1, 1, 19)
        self.shift = Shift(organisation_id=self.team.organisation_id, team_id=self.team.id,
                           opened_by_id=self.worker.id, started_at=start, shift_on=start.date(),
                           status="closed")
        db.session.add(self.shift)
        self.persons = {}

    def person(self, n):
        if n not in self.persons:
            self.persons[n] = Person(code=f"{n:064x}", first_seen_on=date(2023, 1, 1))
        return self.persons[n]

    def contact(self, day, person=None):
        contact = Contact(shift=self.shift, organisation_id=self.team.organisation_id,
                          team_id=self.team.id,
                          occurred_at=datetime.combine(day, datetime.min.time()), occurred_on=day,
                          kind="known" if person else "anonymous", person=person,
                          created_by_id=self.worker.id)
        db.session.add(contact)
        return contact

    def stay(self, person, programme, admitted, exited=None, exit_reason=None):
        contact = self.contact(admitted - 3 * DAY, person)
        referral = Referral(organisation_id=self.team.organisation_id, person=person,
                            programme=programme,
                            status="exited" if exited else "admitted",
                            proposed_on=admitted - 3 * DAY,
                            accepted_on=admitted, admitted_on=admitted, exited_on=exited,
                            exit_reason=exit_reason)
        contact.referrals.append(referral)
        return referral


def _items(kind):
    return db.session.execute(
        db.select(RefItem).filter_by(kind=kind).order_by(RefItem.id)).scalars().all()


def _random_history(rng, world, programmes):
    """Non-overlapping stays per person and programme, some open, some across month ends; street
    contacts."""
    reasons = _items("exit_reason")
    for n in range(40):
        person = world.person(n)
        for programme in programmes:
            day = date(2023, 12, 1) + rng.randrange(120) * DAY
            while day < date(2025, 4, 1) and rng.random() < 0.8:
                length = rng.choice([0, 1, 3, 12, 29, 31, 45, 90, 200])
                exited = day + length * DAY if rng.random() < 0.85 else None
                world.stay(person, programme, day, exited, rng.choice(reasons) if exited else None)
                if exited is None:
                    break
                day = exited + rng.randrange(0, 60) * DAY
        for _ in range(rng.randrange(4)):
            world.contact(date(2024, 1, 1) + rng.randrange(500) * DAY, person)


def _random_capacity(rng, programmes, manager):
    operators = db.session.execute(
        db.select(Organisation).filter_by(is_partner_institution=False)).scalars().all()
    for programme in programmes:
        for operator in operators:
            day = date(2023, 11, 1) + rng.randrange(200) * DAY
            for _ in range(rng.randrange(1, 6)):
                db.session.add(
                    PlaceCapacity(programme=programme, organisation=operator, starts_on=day,
                                  places=rng.randrange(0, 30), recorded_by=manager))
                # 0: a same-day correction, the later one wins
                day += rng.choice([0, 1, 14, 45, 100]) * DAY


# --- the naive reference: every day of the period, one by one ---------------------------

def _reference_capacity(rows, programme_id, day):
    latest = {}
    for row in sorted(rows, key=lambda r: (r.starts_on, r.id)):
        if row.programme_id == programme_id and row.starts_on <= day:
            latest[row.organisation_id] = row.places
    return sum(latest.values())


def _reference(programme_id, rows, referral_rows, contacts, period):
    months = {}
    day = period.first
    while day <= period.last:
        key = (day.year, day.month)
        place, used = months.get(key, (0, 0))
        place += _reference_capacity(rows, programme_id, day)
        used += sum(1 for r in referral_rows if r.programme_id == programme_id
                    and r.admitted_on <= day
                    and (r.exited_on is None or r.exited_on > period.last or day < r.exited_on))
        months[key] = (place, used)
        day += DAY
    exits = [r for r in referral_rows if r.programme_id == programme_id and r.exited_on is not None
             and period.first <= r.exited_on <= period.last]
    lengths = [(r.exited_on - r.admitted_on).days for r in exits]
    open_stays = [r for r in referral_rows if r.programme_id == programme_id
                  and r.admitted_on <= period.last
                  and (r.exited_on is None or r.exited_on > period.last)]
    returns = {}
    for window in (6, 12):
        returns[window] = sum(1 for r in exits if any(
            person_id == r.person_id
            and r.exited_on < seen <= min(measures.shift_months(r.exited_on, window),
                                           period.last)
            for person_id, seen in contacts))
    by_reason = {}
    for r in exits:
        by_reason[r.exit_reason_id] = by_reason.get(r.exit_reason_id, 0) + 1
    return {"months": [months[k] for k in sorted(months)], "lengths": lengths,
            "open": len(open_stays), "returns": returns, "exits": by_reason}


@pytest.mark.parametrize("seed", [1, 2])
def test_occupancy_stays_exits_and_returns_match_a_day_by_day_reference(app, seed):
    rng = random.Random(seed)
    with app.app_context():
        world = World()
        programmes = [i for i in _items("programme") if i.code in ("assore", "phase")]
        _random_history(rng, world, programmes)
        _random_capacity(rng, programmes, _one(User, email="manager@plan.demo"))
        db.session.commit()
        ids = [p.id for p in programmes]
        rows = db.session.execute(db.select(PlaceCapacity)).scalars().all()
        referral_rows = db.session.execute(
            db.select(Referral).where(Referral.admitted_on.isnot(None))).scalars().all()
        contacts = db.session.execute(db.select(Contact.person_id, Contact.occurred_on)
                                      .where(Contact.person_id.isnot(None))).all()
        occupancy = measures.occupancy(ids, PERIOD)
        for programme_id in ids:
            expected = _reference(programme_id, rows, referral_rows, contacts, PERIOD)
            got = [(place, used) for _month, place, used in occupancy[programme_id]]
            assert got == expected["months"]
            assert sum(used for _p, used in got) > 0 and sum(p for p, _u in got) > 0
            stays = measures.length_of_stay([programme_id], PERIOD)
            assert stays["completed"] == len(expected["lengths"]) > 0
            assert stays["median"] == statistics.median(expected["lengths"])
            assert sum(stays["buckets"]) == stays["completed"]
            assert stays["open"] == expected["open"]
            assert measures.exits_by_reason([programme_id], PERIOD) == expected["exits"]
            returns = measures.returns_to_street([programme_id], PERIOD)
            assert returns["exits"] == len(expected["lengths"])
            assert (returns[6], returns[12]) == (expected["returns"][6], expected["returns"][12])
            assert returns[6] <= returns[12]


def test_a_stay_across_a_month_end_counts_its_nights_in_each_month(app):
    with app.app_context():
        world = World()
        assore = _one(RefItem, kind="programme", code="assore")
        aurore = _one(Organisation, code="aurore")
        manager = _one(User, email="manager@plan.demo")
        db.session.add_all(
            [PlaceCapacity(programme=assore, organisation=aurore, starts_on=date(2024, 1, 1),
                           places=2, recorded_by=manager),
             PlaceCapacity(programme=assore, organisation=aurore, starts_on=date(2024, 1, 16),
                           places=4, recorded_by=manager)])
        # nights 30, 31 Jan, 1, 2 Feb
        world.stay(world.person(1), assore, date(2024, 1, 30), date(2024, 2, 3))
        db.session.commit()
        months = measures.occupancy([assore.id],
                                    Period(date(2024, 1, 1), date(2024, 2, 29)))[assore.id]
        assert [(place, used) for _m, place, used in months] == [(15 * 2 + 16 * 4, 2), (29 * 4, 2)]


def _admit(referral, day, user):
    return referrals.advance_referral(referral, user, "admitted", day)


def test_an_overlapping_stay_of_one_person_in_one_programme_is_refused(app):
    with app.app_context():
        world = World()
        assore = _one(RefItem, kind="programme", code="assore")
        person = world.person(7)
        world.stay(person, assore, date(2024, 3, 1), date(2024, 3, 20))
        second = world.stay(person, assore, date(2024, 2, 1))
        second.status, second.admitted_on, second.accepted_on = "accepted", None, date(2024, 2, 1)
        db.session.commit()
        worker = _one(User, email="worker@aurore.demo")
        with pytest.raises(ValidationError) as refused:
            _admit(second, date(2024, 3, 10), worker)
        assert "déjà un séjour dans ce programme" in refused.value.errors["occurred_on"]
        assert "01/03/2024" in refused.value.errors["occurred_on"]
        db.session.rollback()
        assert db.session.get(Referral, second.id).admitted_on is None
        # the exit day: no shared night
        _admit(db.session.get(Referral, second.id), date(2024, 3, 20), worker)
        db.session.commit()
        assert db.session.get(Referral, second.id).status == "admitted"


def test_the_same_person_may_stay_in_another_programme_at_the_same_time(app):
    with app.app_context():
        world = World()
        assore, phase = (_one(RefItem, kind="programme", code=c) for c in ("assore", "phase"))
        person = world.person(8)
        world.stay(person, assore, date(2024, 3, 1))
        other = world.stay(person, phase, date(2024, 3, 5))
        other.status, other.admitted_on = "accepted", None
        db.session.commit()
        _admit(other, date(2024, 3, 5), _one(User, email="worker@aurore.demo"))
        db.session.commit()


# --- the capacity register: who, what, errors, audit --------------------------------------

def _capacity_form(app, organisation="aurore", **values):
    with app.app_context():
        data = {"programme": str(_one(RefItem, kind="programme", code="assore").id),
                "organisation": str(_one(Organisation, code=organisation).id),
                "starts_on": "2024-05-01", "places": "12", "note": "ouverture"}
    data.update(values)
    return data


def test_an_organisation_admin_enters_its_own_places_and_the_change_is_audited(app, client):
    do_login(client, "admin@aurore.demo")
    response = client.post("/execution/places", data=_capacity_form(app))
    assert response.status_code == 302
    page = client.get("/execution/places").get_data(as_text=True)
    assert "01/05/2024" in page and "ouverture" in page
    with app.app_context():
        row = db.session.execute(
            db.select(PlaceCapacity).filter_by(starts_on=date(2024, 5, 1))).scalar_one()
        assert row.places == 12 and row.organisation.code == "aurore"
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="capacity.record")).scalar_one()
        assert event.actor.email == "admin@aurore.demo" and "12" in event.after


def _capacity_rows(app):
    with app.app_context():
        return db.session.execute(
            db.select(db.func.count()).select_from(PlaceCapacity)).scalar_one()


def test_an_organisation_admin_cannot_enter_another_organisations_places(app, client):
    do_login(client, "admin@aurore.demo")
    before = _capacity_rows(app)
    response = client.post("/execution/places", data=_capacity_form(app, organisation="gaia"))
    assert response.status_code == 403
    assert _capacity_rows(app) == before


@pytest.mark.parametrize("field, value, message", [
    ("places", "-3", "Le nombre de places : la valeur ne peut pas être négative."),
    ("places", "douze", "Le nombre de places : entrez un nombre entier."),
    ("starts_on", "31/02/2024", "Date d'effet : date invalide (AAAA-MM-JJ)."),
    ("programme", "999999", "Programme inconnu."),
])
def test_bad_capacity_input_is_refused_in_french_and_nothing_is_written(
        app, client, field, value, message):
    do_login(client, "manager@plan.demo")
    before = _capacity_rows(app)
    response = client.post("/execution/places", data=_capacity_form(app, **{field: value}))
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert _capacity_rows(app) == before
    with app.app_context():
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="capacity.record")).first() is None


def test_the_report_card_protects_small_person_counts_but_not_places(app, client):
    with app.app_context():
        world = World()
        assore = _one(RefItem, kind="programme", code="siao_115")  # no demo places
        db.session.add(
            PlaceCapacity(programme=assore, organisation=_one(Organisation, code="aurore"),
                          starts_on=date(2024, 1, 1), places=37,
                          recorded_by=_one(User, email="manager@plan.demo")))
        world.stay(world.person(1), assore, date(2024, 1, 10), date(2024, 1, 12))
        db.session.commit()
    do_login(client, "manager@plan.demo")
    page = html.unescape(
        client.get("/execution/?from=2024-01-01&to=2024-01-31").get_data(as_text=True))
    places_table = page[page.index('id="places"'):]
    assert "1\u202f147" in places_table  # 31 nights x 37 places, shown as entered
    assert "< 5" in places_table  # 2 person-nights, one completed stay: protected
    assert "0,2 %" not in places_table  # no rate computed from a protected count


@pytest.mark.parametrize("email", ["worker@aurore.demo", "supervisor@aurore.demo"])
def test_field_roles_cannot_post_to_any_plan_execution_route(app, client, email):
    do_login(client, email)
    posts = [rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("planexec.") and "POST" in rule.methods]
    assert len(posts) >= 6
    with app.app_context():
        audited = db.session.execute(
            db.select(db.func.count()).select_from(AuditEvent)).scalar_one()
    for rule in posts:
        url = rule.build({name: "1" for name in rule.arguments}, append_unknown=False)[1]
        assert client.post(url, data=_capacity_form(app)).status_code == 403, rule.rule
    with app.app_context():
        assert (db.session.execute(db.select(db.func.count()).select_from(AuditEvent)).scalar_one()
                == audited)


def test_a_worker_admitting_someone_already_staying_sees_why_on_the_referral_page(app, client):
    today = referrals.today()
    with app.app_context():
        world = World()
        assore = _one(RefItem, kind="programme", code="assore")
        person = world.person(9)
        world.stay(person, assore, today - 20 * DAY)  # still there
        second = world.stay(person, assore, today - 5 * DAY)
        second.status, second.admitted_on, second.accepted_on = "accepted", None, today - 5 * DAY
        db.session.commit()
        second_id = second.id
    do_login(client, "worker@aurore.demo")
    response = client.post(f"/orientations/{second_id}/etapes",
                           data={"status": "admitted", "occurred_on": today.isoformat()})
    assert response.status_code == 422
    assert ("Cette personne a déjà un séjour dans ce "
            "programme" in html.unescape(response.get_data(as_text=True)))
    with app.app_context():
        assert db.session.get(Referral, second_id).status == "accepted"
