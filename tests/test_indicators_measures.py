"""Every measure against a hand-built month (March 2026), on SQLite and PostgreSQL.

Persons: P1 met by Aurore (first contact) and by Gaïa (counted once); P2 new at
Aurore Est; P3 first met in June 2025 and again in March. Two anonymous passages
(3 and 2 people) never count as persons. One contact sits in a shift not yet
validated (provisional).
"""
from datetime import date, datetime

import pytest

from outreach.extensions import db
from outreach.indicators import measures as m
from outreach.indicators import services
from outreach.indicators.rollups import refresh_rollups, rollup_rows
from outreach.models import (
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    RefItem,
    Shift,
    Team,
    User,
)

MARCH = (date(2026, 3, 1), date(2026, 3, 1))


def ref(kind, code):
    return db.session.execute(db.select(RefItem).filter_by(kind=kind, code=code)).scalar_one()


class World:
    def __init__(self):
        self.teams = {t.code: t for t in db.session.execute(db.select(Team)).scalars()}
        self.user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()

    def shift(self, team, day, hour=19, hours=3, staff=3, status="validated", validated_after=24):
        team = self.teams[team]
        started = datetime(day.year, day.month, day.day, hour)
        ended = datetime(day.year, day.month, day.day, hour + hours)
        from datetime import timedelta
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id,
                      opened_by_id=self.user.id,
                      started_at=started, ended_at=ended, shift_on=day, status=status,
                      staff_count=staff,
                      validated_at=(ended + timedelta(hours=validated_after)
                                    if status == "validated" else None))
        db.session.add(shift)
        db.session.flush()
        return shift

    def site_visit(self, shift, site_code, people, syringes=0, pipes=0):
        """One site observation (issue 21) during ``shift``."""
        from outreach.site_models import Site, SiteObservation
        site = db.session.execute(db.select(Site).filter_by(code=site_code)).scalar_one()
        db.session.add(SiteObservation(shift_id=shift.id, site_id=site.id,
                                       organisation_id=shift.organisation_id,
                                       team_id=shift.team_id, observed_at=shift.started_at,
                                       observed_on=shift.shift_on,
                                       people_seen=people, syringes_collected=syringes,
                                       pipes_collected=pipes, created_by_id=self.user.id))

    def contact(self, shift, kind="known", person=None, first=False, people=1, day=None):
        contact = Contact(shift_id=shift.id, organisation_id=shift.organisation_id,
                          team_id=shift.team_id,
                          occurred_at=shift.started_at, occurred_on=day or shift.shift_on,
                          kind=kind,
                          person_id=person.id if person else None, is_first_contact=first,
                          people_count=people, created_by_id=self.user.id)
        db.session.add(contact)
        db.session.flush()
        return contact

    def person(self, first_seen):
        person = Person(
            code=f"{id(self)}-{first_seen}-"
                 f"{db.session.execute(db.select(db.func.count(Person.id))).scalar()}",
            first_seen_on=first_seen, last_seen_on=first_seen)
        db.session.add(person)
        db.session.flush()
        return person


@pytest.fixture
def world(ctx):
    w = World()
    p1, p2, p3 = w.person(date(2026, 3, 2)), w.person(date(2026, 3, 5)), w.person(date(2025, 6, 15))
    old = w.shift("aurore_nord", date(2025, 6, 15), hour=10)
    w.contact(old, person=p3, first=True)
    nord = w.shift("aurore_nord", date(2026, 3, 2), hour=19, hours=3, staff=3)
    c1 = w.contact(nord, person=p1, first=True)
    anon1 = w.contact(nord, kind="anonymous", people=3)
    w.contact(nord, kind="refusal")
    est = w.shift("aurore_est", date(2026, 3, 5), hour=10, hours=2, staff=2)
    c2 = w.contact(est, person=p2, first=True)
    gaia = w.shift("gaia_mobile", date(2026, 3, 10), hour=20, hours=2, staff=2, validated_after=72)
    w.contact(gaia, person=p1)
    w.contact(gaia, kind="anonymous", people=2)
    nord2 = w.shift("aurore_nord", date(2026, 3, 20), hour=10, hours=2, staff=2)
    c3 = w.contact(nord2, person=p3)
    provisional = w.shift("aurore_nord", date(2026, 3, 25), hour=10, status="closed")
    w.contact(provisional, kind="anonymous", people=1)
    kit, naloxone = ref("material", "kit_base"), ref("material", "naloxone")
    db.session.add_all([ContactMaterial(contact_id=c1.id, material_id=kit.id, quantity=2),
                        ContactMaterial(contact_id=anon1.id, material_id=kit.id, quantity=1),
                        ContactMaterial(contact_id=c2.id, material_id=naloxone.id, quantity=1),
                        Orientation(contact_id=c1.id, destination_id=ref("destination", "csapa").id,
                                    is_accompanied=True),
                        Orientation(contact_id=c2.id,
                                    destination_id=ref("destination", "scmr").id)])
    w.site_visit(nord, "stalingrad", 12, syringes=2, pipes=3)  # site observations (issue 21)
    w.site_visit(est, "eole", 4, pipes=4)
    w.site_visit(provisional, "stalingrad", 30, syringes=1)
    assore, phase = ref("programme", "assore"), ref("programme", "phase")
    db.session.add_all([
        Referral(contact_id=c1.id, organisation_id=c1.organisation_id, person_id=p1.id,
                 programme_id=assore.id,
                 status="admitted", proposed_on=date(2026, 3, 2), accepted_on=date(2026, 3, 4),
                 admitted_on=date(2026, 3, 12)),
        Referral(contact_id=c2.id, organisation_id=c2.organisation_id, person_id=p2.id,
                 programme_id=assore.id,
                 status="refused", proposed_on=date(2026, 3, 5), refused_on=date(2026, 3, 6),
                 refusal_reason_id=ref("refusal_reason", "pas_de_place").id),
        Referral(contact_id=c3.id, organisation_id=c3.organisation_id, person_id=p3.id,
                 programme_id=phase.id,
                 status="admitted", proposed_on=date(2026, 3, 20), accepted_on=date(2026, 3, 20),
                 admitted_on=date(2026, 3, 21))])
    db.session.flush()
    _working_together(w, nord, provisional, c1)
    db.session.commit()
    return w


def _working_together(w, validated, provisional, contact):
    """Issue 21: partners on a validated and a provisional shift, one handover, meetings and
    decisions."""
    from outreach.models import Organisation
    from outreach.site_models import (
        CoordinationDecision,
        CoordinationMeeting,
        Partner,
        ReferralHandover,
        shift_partners,
    )
    partner = db.session.execute(db.select(Partner).order_by(Partner.id)).scalars().first()
    db.session.execute(shift_partners.insert(),
                       [{"shift_id": validated.id, "partner_id": partner.id},
                        {"shift_id": provisional.id, "partner_id": partner.id}])
    gaia = db.session.execute(db.select(Organisation).filter_by(code="gaia")).scalar_one()
    db.session.add(ReferralHandover(referral_id=contact.referrals[0].id,
                                    from_organisation_id=contact.organisation_id,
                                    to_organisation_id=gaia.id, handed_over_on=date(2026, 3, 15),
                                    handed_over_by_id=w.user.id))
    march = CoordinationMeeting(held_on=date(2026, 3, 10), title="Comité", created_by_id=w.user.id,
                                organisations=[gaia], decisions=[
                                    CoordinationDecision(text="à temps",
                                                         follow_up_on=date(2026, 3, 20),
                                                         done_on=date(2026, 3, 18)),
                                    CoordinationDecision(text="en retard",
                                                         follow_up_on=date(2026, 3, 25),
                                                         done_on=date(2026, 3, 28)),
                                    CoordinationDecision(text="avril",
                                                         follow_up_on=date(2026, 4, 5))])
    february = CoordinationMeeting(held_on=date(2026, 2, 20), title="Comité",
                                   created_by_id=w.user.id, organisations=[gaia], decisions=[
                                       CoordinationDecision(text="pas faite",
                                                            follow_up_on=date(2026, 3, 10))])
    db.session.add_all([march, february])


EXPECTED = {
    "contacts": 7, "known_contacts": 4, "anonymous_contacts": 2, "anonymous_passages": 5,
    "refusal_contacts": 1,
    "contacts_with_code": 4, "distinct_persons": 3, "new_persons": 2, "persons_multi_org": 1,
    "material": 4,
    "orientations": 2, "orientations_accompanied": 1, "referrals_proposed": 3,
    "referrals_accepted": 2,
    "referrals_refused": 1, "refusals_no_place": 1, "admissions": 2, "exits": 0, "exits_stable": 0,
    "median_days_to_admission": 144.5, "median_days_waiting": 5.5, "shifts": 4, "night_shifts": 2,
    "staff_hours": 21, "shifts_validated_48h": 3,
}


# site observations (issue 21): validated shifts only, as every measure without include_provisional
EXPECTED.update({"site_visits": 2, "site_people_seen": 16, "site_used_material": 9})
# working together (issue 21): a partner on one validated shift (the provisional one left out), one
# handover, one meeting in March, three decisions due in March of which one done by its date
EXPECTED.update({"shifts_with_partners": 1, "handovers": 1, "meetings_held": 1, "decisions_due": 3,
                 "decisions_on_time": 1})


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_measure_on_the_hand_built_month(world, code):
    assert m.run(m.MEASURES[code], {}, MARCH) == pytest.approx(EXPECTED[code])


def test_the_dashboard_evaluator_agrees_with_each_measure(world):
    evaluator = m.Evaluator({})
    evaluator.window = (date(2025, 1, 1), date(2026, 12, 1))
    for code, expected in EXPECTED.items():
        assert evaluator.value(code, {}, MARCH) == pytest.approx(expected), code


def test_every_registered_measure_is_covered():
    assert set(m.MEASURES) - set(EXPECTED) == {"file_active"}


def test_a_person_met_by_two_organisations_counts_once_and_anonymous_passages_never(world):
    gaia = world.teams["gaia_mobile"].organisation_id
    assert m.run(m.MEASURES["distinct_persons"], {"organisation_id": gaia}, MARCH) == 1
    assert m.run(m.MEASURES["anonymous_passages"], {"organisation_id": gaia}, MARCH) == 2
    aurore = world.teams["aurore_nord"].organisation_id
    assert m.run(m.MEASURES["distinct_persons"], {"organisation_id": aurore}, MARCH) == 3
    # P1, first met anywhere on 2 March (by Aurore), is new in March for Gaïa too: among the persons
    # Gaïa met in March, those whose first contact in the plan falls in March
    assert m.run(m.MEASURES["new_persons"], {"organisation_id": gaia}, MARCH) == 1
    assert m.run(m.MEASURES["new_persons"], {"organisation_id": aurore}, MARCH) == 2
    # P1 is met by both: each organisation counts it as met by another one as well
    assert m.run(m.MEASURES["persons_multi_org"], {"organisation_id": gaia}, MARCH) == 1
    assert m.run(m.MEASURES["persons_multi_org"], {"organisation_id": aurore}, MARCH) == 1
    assert m.run(m.MEASURES["persons_multi_org"], {"team_id": world.teams["aurore_est"].id},
                 MARCH) == 0


def test_file_active_covers_the_twelve_months_ending_with_the_period(world):
    assert m.run(m.MEASURES["file_active"], {}, MARCH) == 3
    assert m.run(m.MEASURES["file_active"], {}, (date(2025, 6, 1), date(2025, 6, 1))) == 1
    assert m.run(m.MEASURES["file_active"], {}, (date(2027, 3, 1), date(2027, 3, 1))) == 0


def test_item_filters_and_provisional_data(world):
    assert m.run(m.MEASURES["material"], {"material": "kit_base"}, MARCH) == 3
    assert m.run(m.MEASURES["orientations"], {"destination": "scmr"}, MARCH) == 1
    assert m.run(m.MEASURES["admissions"], {"programme": "assore"}, MARCH) == 1
    assert m.run(m.MEASURES["median_days_to_admission"], {"programme": "assore"}, MARCH) == 10
    assert m.run(m.MEASURES["contacts"], {"include_provisional": True}, MARCH) == 8
    assert m.run(m.MEASURES["shifts"], {"include_provisional": True}, MARCH) == 5


def test_sector_filter_answers_none_where_a_measure_has_no_sector(world):
    assert m.run(m.MEASURES["material"], {"sector_id": 1}, MARCH) is None
    assert m.run(m.MEASURES["contacts"], {"sector_id": 999}, MARCH) == 0


def test_roll_ups_caught_up_after_writes_equal_a_full_rebuild(world):
    before = rollup_rows(db.session)  # catches up first
    refresh_rollups(db.session)
    assert rollup_rows(db.session) == before


def test_periods_parse_and_reject_bad_input():
    today = date(2026, 11, 28)
    # "12 derniers mois": the last 12 complete months, the month in progress apart
    assert services.parse_period({}, today).bounds == (date(2025, 11, 1), date(2026, 10, 1))
    assert services.parse_period({}, date(2026, 12, 1)).bounds == (date(2025, 12, 1),
                                                                   date(2026, 11, 1))
    assert services.parse_period({"period": "quarter", "month": "2026-05"}, today).bounds == (
        date(2026, 4, 1), date(2026, 6, 1))
    assert services.parse_period({"period": "year", "year": "2025"}, today).months == 12
    from outreach.errors import ValidationError
    with pytest.raises(ValidationError):
        services.parse_period({"period": "custom", "from": "2026-05", "to": "2026-01"}, today)
    with pytest.raises(ValidationError):
        services.parse_period({"period": "month", "month": "mai"}, today)


def test_dashboard_medians_in_bulk_agree_with_the_median_measures(world):
    supervisor = db.session.execute(
        db.select(User).filter_by(email="supervisor@aurore.demo")).scalar_one()
    board = services.Dashboard(services.Period(MARCH[0], MARCH[1]), {}, supervisor)
    assert board._median("median_days_to_admission", {}, board.period) == 144.5
    assert board._median("median_days_to_admission", {"programme": "assore"}, board.period) == 10
    assert board._median("median_days_waiting", {}, board.period) == 5.5


def test_persons_met_by_two_organisations_in_any_window(ctx):
    w = World()
    p = w.person(date(2026, 1, 5))
    q = w.person(date(2026, 1, 6))
    for day in (date(2026, 1, 5), date(2026, 3, 5)):
        w.contact(w.shift("aurore_nord", day), person=p, first=day.month == 1)
        w.contact(w.shift("gaia_mobile", day), person=p)
    w.contact(w.shift("gaia_mobile", date(2026, 1, 6)), person=q, first=True)
    w.contact(w.shift("aurore_est", date(2026, 2, 6)), person=q)
    db.session.commit()
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    for window, expected in {(mar, mar): 1, (feb, feb): 0, (jan, feb): 2, (feb, mar): 1,
                             (jan, mar): 2}.items():
        evaluator = m.Evaluator({})
        assert evaluator.value("persons_multi_org", {}, window) == expected, window
        assert m.run(m.MEASURES["persons_multi_org"], {}, window) == expected, window


def test_night_shifts_are_decided_in_paris_time_across_daylight_saving(ctx):
    """The roll-ups' Paris hour equals zoneinfo's for every hour around each change of time, in both
    databases; a shift starting at 19:30 Paris in September (17:30 UTC) is a night shift."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import DateTime, literal, select

    from outreach.indicators.rollups import paris_hour
    paris, dialect = ZoneInfo("Europe/Paris"), db.engine.dialect.name
    moments = [datetime(2025, 3, 29, 20) + timedelta(hours=h) for h in range(36)]
    moments += [datetime(2026, 10, 24, 20) + timedelta(minutes=30 * h) for h in range(72)]
    moments += [datetime(2025, 12, 31, 23, 30), datetime(2026, 6, 30, 22, 15),
                datetime(2025, 9, 12, 17, 30)]
    for moment in moments:
        got = db.session.execute(select(paris_hour(dialect, literal(moment, DateTime)))).scalar()
        assert got == moment.replace(tzinfo=UTC).astimezone(paris).hour, moment
    w = World()
    w.shift("aurore_nord", date(2025, 9, 12), hour=17)  # 17:00 UTC = 19:00 Paris (summer time)
    w.shift("aurore_nord", date(2025, 9, 13), hour=16)  # 18:00 Paris: not yet the night
    w.shift("aurore_nord", date(2025, 12, 12), hour=18)  # 19:00 Paris (winter time)
    w.shift("aurore_nord", date(2025, 12, 13), hour=3)  # 04:00 Paris: still the night
    db.session.commit()
    assert m.run(m.MEASURES["night_shifts"], {}, (date(2025, 9, 1), date(2025, 9, 1))) == 1
    assert m.run(m.MEASURES["night_shifts"], {}, (date(2025, 12, 1), date(2025, 12, 1))) == 2


def test_site_observation_measures_by_site_and_by_arrondissement(world):
    people = m.MEASURES["site_people_seen"]
    assert m.run(people, {"arrondissement": 19}, MARCH) == 12
    assert m.run(people, {"arrondissement": [18, 20]}, MARCH) == 4
    assert m.run(people, {"site": "eole"}, MARCH) == 4
    assert m.run(people, {"include_provisional": True}, MARCH) == 46
    assert m.run(m.MEASURES["site_used_material"],
                 {"site": "stalingrad", "include_provisional": True}, MARCH) == 6
