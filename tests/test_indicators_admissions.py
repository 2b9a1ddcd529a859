"""The medians' admissions (``rollup_admissions``) kept by the catch-up equal a full rebuild,
whatever the writes (a referral admitted, its contact moved or deleted, its shift validated, its
person met earlier), and the medians read from them equal those read from the referrals, their
contacts and their shifts."""
import statistics
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_indicators_rollups import DAYS, Runner, _clear, op

from outreach.extensions import db
from outreach.indicators import admissions
from outreach.indicators import measures as m
from outreach.indicators.rollups import catch_up
from outreach.models import Contact, Referral, Shift

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]


def _rows():
    t = admissions.RollupAdmission
    return sorted(db.session.execute(db.select(*[getattr(t, c) for c in admissions.COLUMNS]))
                  .all())


def _medians_from_the_raw_tables(filters, period):
    """Each median by definition: referrals admitted in the period whose contact is of the team and
    whose shift is validated (unless provisional), from the raw tables."""
    rows = db.session.execute(
        db.select(Referral.admitted_on, Referral.person_first_seen_on, Referral.proposed_on,
                  Referral.organisation_id, Contact.team_id, Shift.status)
        .join(Contact, Contact.id == Referral.contact_id).join(Shift, Shift.id == Contact.shift_id)
        .where(Referral.admitted_on.isnot(None))).all()
    out = {}
    for code, start in (("median_days_to_admission", 1), ("median_days_waiting", 2)):
        days = [(r[0] - r[start]).days for r in rows
                if period[0] <= r[0].replace(day=1) <= period[1] and r[start] is not None
                and filters.get("organisation_id") in (None, r[3])
                and filters.get("team_id") in (None, r[4])
                and (filters.get("include_provisional") or r[5] == "validated")]
        out[code] = statistics.median(days) if days else None
    return out


@settings(deadline=None, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(op, min_size=1, max_size=12), flush_every=st.integers(1, 4))
def test_admissions_kept_on_write_equal_a_full_rebuild_and_the_raw_tables(ctx, operations,
                                                                           flush_every):
    _clear()
    db.session.execute(db.delete(admissions.RollupAdmission))
    runner = Runner()
    try:
        for i, operation in enumerate(operations):
            runner.apply(operation)
            if i % flush_every == 0:  # a read between writes: the rows are built, then written on
                db.session.commit()
                catch_up(db.session)
        db.session.commit()
        catch_up(db.session)
        kept = _rows()
        admissions.refresh(db.session.connection(), None)
        assert _rows() == kept
        team = runner.teams[0]
        for filters in ({}, {"include_provisional": True}, {"team_id": team.id},
                        {"organisation_id": team.organisation_id, "include_provisional": True}):
            for period in ((MONTHS[0], MONTHS[-1]), (MONTHS[1], MONTHS[1])):
                expected = _medians_from_the_raw_tables(filters, period)
                for code, value in expected.items():
                    assert m.run(m.MEASURES[code], filters, period) == value, (code, filters)
    finally:
        db.session.rollback()
        db.session.execute(db.delete(admissions.RollupAdmission))
        _clear()


def test_a_person_met_earlier_moves_the_first_contact_median_already_read(ctx):
    """The copy of a person's first contact is rewritten by a statement when older history
    arrives: the admission's row, built by an earlier read, follows it."""
    _clear()
    db.session.execute(db.delete(admissions.RollupAdmission))
    runner = Runner()
    try:
        runner.contact(0, DAYS[3], "known", 1, False)
        db.session.flush()
        runner.apply(("refer", 0, 5))
        runner.apply(("validate", 0))
        db.session.commit()
        march = (date(2026, 3, 1), date(2026, 3, 1))
        median = m.MEASURES["median_days_to_admission"]
        assert m.run(median, {}, march) == (DAYS[3] + timedelta(5) - DAYS[0]).days
        db.session.commit()
        runner.apply(("met_earlier", 1, 30))
        db.session.commit()
        assert m.run(median, {}, march) == (DAYS[3] + timedelta(5) - DAYS[0]).days + 30
    finally:
        db.session.rollback()
        db.session.execute(db.delete(admissions.RollupAdmission))
        _clear()
