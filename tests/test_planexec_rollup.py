"""The report card's roll-ups (``planexec.rollup``) give the figures of the direct reading of the referral rows
(``measures.Facts``), cell keys included, after writes through every path that changes a referral; and the card
reads them in a bounded number of statements."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import event
from test_planexec_places import World, _items, _one, _random_capacity, _random_history

from outreach.extensions import db
from outreach.indicators.cellkeys import MASK
from outreach.models import Referral, RefItem, User
from outreach.planexec import card, measures
from outreach.planexec.measures import Facts, Period
from outreach.planexec.rollup import RolledFacts
from outreach.reference.defaults import NO_PLACE_REFUSAL

DAY = timedelta(days=1)
PERIODS = [Period(date(2024, 3, 10), date(2025, 2, 20)), Period(date(2024, 1, 1), date(2024, 12, 31)),
           Period(date(2024, 5, 3), date(2024, 5, 17)), Period(date(2023, 11, 15), date(2025, 4, 1)),
           Period(date(2024, 6, 30), date(2024, 7, 1)), Period(date(2024, 2, 1), date(2024, 3, 31))]


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
        out[pid] = _plain({"months": [(m.first, p, u) for m, p, u in months], "total": total,
                           "stays": facts.length_of_stay(pid), "exits": facts.exits_by_reason(pid),
                           "refusals": facts.refusals(pid, no_place), "returns": facts.returns_to_street(pid)})
    return out


def _assert_same(programmes, periods=PERIODS):
    ids = [p.id for p in programmes]
    no_place = _one(RefItem, kind="refusal_reason", code=NO_PLACE_REFUSAL).id
    for period in periods:
        steps = measures.capacity_steps(ids, period.last)
        rolled, direct = _figures(RolledFacts, ids, period, steps, no_place), _figures(Facts, ids, period, steps, no_place)
        for pid in ids:
            for (name, got), (_n, expected) in zip(rolled[pid], direct[pid], strict=True):
                assert got == expected, (period, pid, name)
        assert card.places_section(programmes, period) == card.places_section(programmes, period, Facts), period


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
        # corrections: dates moved across months, a programme changed, an exit undone, a referral deleted
        referrals = db.session.execute(db.select(Referral).where(Referral.admitted_on.isnot(None))
                                       .order_by(Referral.id)).scalars().all()
        for referral in rng.sample(referrals, 12):
            referral.admitted_on -= rng.choice([1, 20, 40]) * DAY
        for referral in rng.sample(referrals, 5):
            referral.programme_id = programmes[0].id if referral.programme_id != programmes[0].id else programmes[1].id
        for referral in [r for r in referrals if r.exited_on][:4]:
            referral.exited_on, referral.exit_reason_id = None, None
        for referral in rng.sample(referrals, 3):
            db.session.delete(referral)
        db.session.commit()
        _assert_same(programmes)

