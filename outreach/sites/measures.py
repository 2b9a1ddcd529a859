"""Measures of working together (issue 21 item 4), read straight from their tables (a few rows a
month, no roll-up): shifts with partners present, referrals handed over, coordination meetings held,
and decisions due and followed up on time. Registered in ``outreach.indicators.measures`` as kind
``direct``.

Scope: an organisation filter keeps its shifts and the referrals it handed over, and the meetings it
attended (with their decisions); a team filter keeps its shifts and referrals, and the meetings of
its organisation. Shifts and handovers follow the state of their shift (validated only unless
``include_provisional``), as every figure; meetings and decisions do not depend on shifts. Months
are Paris dates, as recorded.
"""
from datetime import date

from sqlalchemy import and_, case, func, select

from ..models import Contact, Shift, Team
from ..site_models import (
    CoordinationDecision,
    CoordinationMeeting,
    ReferralHandover,
    meeting_organisations,
    shift_partners,
)


def _next_month(month):
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _days(column, period):
    return [column >= period[0], column < _next_month(period[1])]


def _shift_scope(filters):
    where = []
    if filters.get("organisation_id"):
        where.append(Shift.organisation_id == filters["organisation_id"])
    if filters.get("team_id"):
        where.append(Shift.team_id == filters["team_id"])
    if not filters.get("include_provisional"):
        where.append(Shift.status == "validated")
    return where


def shifts_with_partners(filters, period):
    """Shifts with a partner present: walked from the partners' rows (a shift in a few), not by a
    probe for every shift of the period."""
    with_partner = Shift.id.in_(select(shift_partners.c.shift_id))
    return select(func.count(Shift.id)).where(with_partner, *_shift_scope(filters),
                                              *_days(Shift.shift_on, period))


def handovers(filters, period):
    from ..models import Referral
    return (select(func.count(ReferralHandover.id))
            .join(Referral, Referral.id == ReferralHandover.referral_id)
            .join(Contact, Contact.id == Referral.contact_id).join(Shift,
                                                                   Shift.id == Contact.shift_id)
            .where(*_shift_scope(filters), *_days(ReferralHandover.handed_over_on, period)))


def _organisation(filters):
    """The organisation whose meetings count: the filter's, or the filtered team's."""
    if filters.get("organisation_id"):
        return filters["organisation_id"]
    if filters.get("team_id"):
        return select(Team.organisation_id).where(Team.id == filters["team_id"]).scalar_subquery()
    return None


def _attended(filters, meeting_id):
    organisation = _organisation(filters)
    if organisation is None:
        return []
    return [select(meeting_organisations.c.meeting_id).where(
        meeting_organisations.c.meeting_id == meeting_id,
        meeting_organisations.c.organisation_id == organisation).exists()]


def meetings_held(filters, period):
    return select(func.count(CoordinationMeeting.id)).where(
        *_attended(filters, CoordinationMeeting.id), *_days(CoordinationMeeting.held_on, period))


def _decisions(filters, period, *where):
    d = CoordinationDecision
    return select(func.count(d.id)).where(*_attended(filters, d.meeting_id),
                                          *_days(d.follow_up_on, period), *where)


def decisions_due(filters, period):
    return _decisions(filters, period)


def decisions_on_time(filters, period):
    d = CoordinationDecision
    return _decisions(filters, period, and_(d.done_on.is_not(None), d.done_on <= d.follow_up_on))


QUERIES = {"shifts_with_partners": shifts_with_partners, "handovers": handovers,
           "meetings_held": meetings_held,
           "decisions_due": decisions_due, "decisions_on_time": decisions_on_time}
# The day each measure counts on: ``monthly`` groups a whole window by it in one statement.
DAYS = {"shifts_with_partners": Shift.shift_on, "handovers": ReferralHandover.handed_over_on,
        "meetings_held": CoordinationMeeting.held_on,
        "decisions_due": CoordinationDecision.follow_up_on,
        "decisions_on_time": CoordinationDecision.follow_up_on}


def _by_month(rows):
    counts = {}
    for on, *values in rows:
        on = on if isinstance(on, date) else date.fromisoformat(str(on)[:10])
        month = on.replace(day=1)
        counts[month] = [a + (b or 0) for a, b in zip(counts.get(month, [0] * len(values)), values)]
    return counts


def monthly_decisions(session, filters, window):
    """({month: decisions due}, {month: decisions followed up on time}) over ``window``, one
    statement for both."""
    d = CoordinationDecision
    on_time = and_(d.done_on.is_not(None), d.done_on <= d.follow_up_on)
    rows = session.execute(select(d.follow_up_on, func.count(d.id), func.count(case((on_time, 1))))
                           .where(*_attended(filters, d.meeting_id), *_days(d.follow_up_on, window))
                           .group_by(d.follow_up_on))
    counts = _by_month(rows)
    return ({m: v[0] for m, v in counts.items()}, {m: v[1] for m, v in counts.items()})


def monthly(session, code, filters, window):
    """{first day of a month: count} of measure ``code`` over ``window`` (first months), one
    statement: the measure's own query, grouped by its day (a few rows a month), summed per month
    here."""
    query, day = QUERIES[code](filters, window), DAYS[code]
    grouped = query.with_only_columns(day, *query.selected_columns).group_by(day)
    return {month: values[0] for month, values in _by_month(session.execute(grouped)).items()}
