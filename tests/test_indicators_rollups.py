"""Property: roll-ups caught up after writes equal a full recomputation, after random
inserts, corrections, validations and deletions (SQLite and PostgreSQL)."""
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from outreach.extensions import db
from outreach.indicators import measures as m
from outreach.indicators import rollups
from outreach.indicators.rollups import catch_up, refresh_rollups, rollup_rows
from outreach.models import (
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    RefItem,
    RollupDirty,
    RollupMonthly,
    RollupMultiCount,
    RollupOrgMonthly,
    RollupPersonMonth,
    RollupPersonSpan,
    RollupSpanCount,
    Shift,
    Team,
    User,
)

DAYS = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 15)]
op = st.one_of(
    st.tuples(st.just("contact"), st.integers(0, 2), st.sampled_from(DAYS),
              st.sampled_from(["known", "anonymous"]), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("correct"), st.integers(0, 50), st.sampled_from(DAYS)),
    st.tuples(st.just("validate"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("refer"), st.integers(0, 50), st.integers(0, 40)),
    st.tuples(st.just("met_earlier"), st.integers(0, 3), st.integers(1, 90)),
)


class Runner:
    def __init__(self):
        self.teams = db.session.execute(db.select(Team).order_by(Team.id)).scalars().all()
        self.user = db.session.execute(db.select(User)).scalars().first()
        self.kit = db.session.execute(
            db.select(RefItem).filter_by(kind="material", code="kit_base")).scalar_one()
        self.dest = db.session.execute(
            db.select(RefItem).filter_by(kind="destination", code="csapa")).scalar_one()
        self.prog = db.session.execute(
            db.select(RefItem).filter_by(kind="programme", code="assore")).scalar_one()
        self.persons = [Person(code=f"p{i}", first_seen_on=DAYS[0]) for i in range(4)]
        db.session.add_all(self.persons)
        db.session.flush()
        self.contacts = []

    def contact(self, team_index, day, kind, person_index, extras):
        team = self.teams[team_index % len(self.teams)]
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id,
                      opened_by_id=self.user.id,
                      started_at=datetime(day.year, day.month, day.day, 20), shift_on=day,
                      status="closed", ended_at=datetime(day.year, day.month, day.day, 23))
        person = self.persons[person_index] if kind == "known" else None
        contact = Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                          occurred_on=day,
                          occurred_at=shift.started_at, kind=kind,
                          person_id=person.id if person else None,
                          created_by_id=self.user.id,
                          is_first_contact=kind == "known" and person_index == 0)
        if extras:
            contact.materials = [ContactMaterial(material_id=self.kit.id, quantity=2)]
            contact.orientations = [Orientation(destination_id=self.dest.id, is_accompanied=True)]
        db.session.add(contact)
        self.contacts.append(contact)

    def pick(self, index):
        alive = [c for c in self.contacts if c in db.session and c not in db.session.deleted]
        return alive[index % len(alive)] if alive else None

    def apply(self, operation):
        name, *args = operation
        if name == "contact":
            return self.contact(*args)
        if name == "met_earlier":  # older history arrives: the person's first contact moves back
            person = self.persons[args[0]]
            person.first_seen_on = person.first_seen_on - timedelta(days=args[1])
            return None
        target = self.pick(args[0])
        if target is None:
            return None
        if name == "correct":
            target.occurred_on, target.kind, target.person_id = args[1], "anonymous", None
        elif name == "validate":
            target.shift.status, target.shift.validated_at = "validated", target.shift.ended_at
        elif name == "delete":
            db.session.flush()
            db.session.delete(target)
        elif name == "refer":
            person = db.session.get(Person, target.person_id) if target.person_id else None
            target.referrals.append(
                Referral(organisation_id=target.organisation_id, programme_id=self.prog.id,
                         person=person, proposed_on=target.occurred_on, status="admitted",
                         admitted_on=target.occurred_on + timedelta(days=args[1])))
        return None


def _spans_agree_with_group_by():
    """Person spans (plain COUNTs) give the same distinct, new and multi-organisation counts as
    GROUP BY."""
    months = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    organisations = sorted(
        {t.organisation_id for t in db.session.execute(db.select(Team)).scalars()})
    for provisional, organisation in [(p, o) for p in (False, True)
                                      for o in [None, *organisations]]:
        filters = {"include_provisional": provisional, "organisation_id": organisation}
        for a in months:
            for b in [x for x in months if x >= a]:
                evaluator = m.Evaluator(filters)
                for code in ("distinct_persons", "new_persons", "persons_multi_org"):
                    assert evaluator.value(code, filters,
                                           (a, b)) == m.run(m.MEASURES[code], filters, (a, b)), (
                        code, a, b, provisional, organisation)


def _referrals_carry_their_persons_first_contact():
    """The copy the medians read equals the person's first contact, whatever moved it."""
    rows = db.session.execute(db.select(Referral.person_first_seen_on, Person.first_seen_on)
                              .join(Person, Person.id == Referral.person_id)).all()
    assert all(copy == first for copy, first in rows), rows


def _clear():
    for model in (Referral, Orientation, ContactMaterial, Contact, Shift, Person, RollupMonthly,
                  RollupPersonMonth,
                  RollupOrgMonthly, RollupPersonSpan, RollupDirty, RollupSpanCount,
                  RollupMultiCount):
        db.session.execute(db.delete(model))
    db.session.commit()


@settings(deadline=None,
          # a busy machine is slow
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(op, min_size=1, max_size=12), flush_every=st.integers(1, 4))
def test_rollups_kept_on_write_equal_a_full_recomputation(ctx, operations, flush_every):
    _clear()
    runner = Runner()
    try:
        for i, operation in enumerate(operations):
            runner.apply(operation)
            if i % flush_every == 0:
                db.session.flush()
        db.session.commit()
        catch_up(db.session)
        assert not db.session.execute(db.select(RollupDirty)).first()
        kept = rollup_rows(db.session)
        refresh_rollups(db.session)
        assert rollup_rows(db.session) == kept
        _spans_agree_with_group_by()
        _referrals_carry_their_persons_first_contact()
    finally:
        db.session.rollback()
        _clear()


@pytest.fixture
def runner(ctx):
    """A Runner on empty tables, emptied again afterwards."""
    _clear()
    try:
        yield Runner()
    finally:
        db.session.rollback()
        _clear()


def test_a_referral_keeps_its_persons_first_contact_when_older_history_arrives(runner):
    runner.contact(0, DAYS[3], "known", 1, False)
    db.session.flush()
    runner.apply(("refer", 0, 20))
    db.session.commit()
    assert db.session.execute(db.select(Referral.person_first_seen_on)).scalar_one() == DAYS[0]
    runner.apply(("met_earlier", 1, 30))
    db.session.commit()
    assert (db.session.execute(db.select(Referral.person_first_seen_on)).scalar_one() == DAYS[0]
            - timedelta(30))
    april = (date(2026, 4, 1), date(2026, 4, 1))
    board_days = m.run(m.MEASURES["median_days_to_admission"], {"include_provisional": True}, april)
    assert board_days == (DAYS[3] + timedelta(20) - (DAYS[0] - timedelta(30))).days
    # the referral's shift is closed, not validated: like every figure, it waits for the validation
    assert m.run(m.MEASURES["median_days_to_admission"], {}, april) is None


def test_validating_a_shift_moves_its_referrals_steps_in_later_months(runner):
    """Referral figures follow their shift's state: the validation reaches a step dated months
    later."""
    runner.contact(0, DAYS[0], "known", 1, False)
    db.session.flush()
    runner.apply(("refer", 0, 40))  # admitted in March, proposed in January
    db.session.commit()
    march = (date(2026, 3, 1), date(2026, 3, 1))
    assert m.run(m.MEASURES["admissions"], {}, march) == 0  # the shift is only closed
    assert m.run(m.MEASURES["admissions"], {"include_provisional": True}, march) == 1
    runner.apply(("validate", 0))
    db.session.commit()
    assert m.run(m.MEASURES["admissions"], {}, march) == 1
    kept = rollup_rows(db.session)
    refresh_rollups(db.session)
    assert rollup_rows(db.session) == kept


def test_a_referral_detached_from_its_person_leaves_the_first_contact_median(runner):
    """A contact corrected to anonymous takes its referral's person away, and the first-contact
    date with it."""
    runner.contact(0, DAYS[3], "known", 1, False)
    db.session.flush()
    runner.apply(("refer", 0, 5))
    runner.apply(("validate", 0))
    db.session.commit()
    march = (date(2026, 3, 1), date(2026, 3, 1))
    assert m.run(m.MEASURES["median_days_to_admission"], {},
                 march) == (DAYS[3] + timedelta(5) - DAYS[0]).days
    contact = runner.pick(0)
    contact.kind, contact.person = "anonymous", None
    for referral in contact.referrals:
        referral.person = None
    db.session.commit()
    assert db.session.execute(db.select(Referral.person_first_seen_on)).scalar_one() is None
    assert m.run(m.MEASURES["median_days_to_admission"], {}, march) is None


def test_a_busy_nights_backlog_is_caught_up_in_a_bounded_number_of_statements(runner):
    """Contacts for every team over six months leave one mark per (team, month) slice; the catch-up
    rebuilds them all together: its SQL statements do not grow with the slices (rebuilt one by one,
    each slice cost some thirty statements), and the figures equal a full recomputation."""
    for team_index in range(len(runner.teams)):
        for month in range(1, 7):
            for person_index in range(2):
                runner.contact(team_index, date(2026, month, 10 + person_index), "known",
                               person_index, True)
    db.session.commit()
    slices = db.session.execute(
        db.select(RollupDirty.organisation_id, RollupDirty.team_id, RollupDirty.month)
        .distinct()).all()
    assert len(slices) == 6 * len(runner.teams) >= 18
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert catch_up(db.session) == len(slices)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) <= 80, len(statements)
    assert not db.session.execute(db.select(RollupDirty)).first()
    march = (date(2026, 3, 1), date(2026, 3, 1))
    assert m.run(m.MEASURES["contacts"], {"include_provisional": True},
                 march) == 2 * len(runner.teams)
    kept = rollup_rows(db.session)
    refresh_rollups(db.session)
    assert rollup_rows(db.session) == kept


def test_a_backlog_larger_than_one_transaction_is_caught_up_in_several(runner, monkeypatch):
    """Each transaction of a catch-up claims at most ``MARKS_PER_TRANSACTION`` marks; the reader
    goes on until every mark committed before it came is processed."""
    monkeypatch.setattr(rollups, "MARKS_PER_TRANSACTION", 4)
    for team_index in range(len(runner.teams)):
        for day in DAYS:
            runner.contact(team_index, day, "known", team_index, False)
            db.session.flush()  # one mark per flush: several marks for one slice
    db.session.commit()
    marks = db.session.execute(db.select(db.func.count()).select_from(RollupDirty)).scalar_one()
    assert marks >= 3 * 4  # three transactions at least
    assert catch_up(db.session) == marks
    assert not db.session.execute(db.select(RollupDirty)).first()
    kept = rollup_rows(db.session)
    refresh_rollups(db.session)
    assert rollup_rows(db.session) == kept
