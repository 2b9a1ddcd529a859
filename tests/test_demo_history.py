"""`make run` seeds a year of history for the demo teams: figures for the last 12 complete
months, every referral outcome, validated shifts and a last week waiting for validation; a re-run
adds nothing."""
from datetime import date, timedelta

from sqlalchemy import func

from outreach.extensions import db
from outreach.indicators.synthetic import build_demo_history
from outreach.models import Contact, Referral, Shift, Team
from outreach.seed import DEMO_USERS

TODAY = date(2026, 3, 15)


def _months_back(day, n):
    month = day.replace(day=1)
    for _ in range(n):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def test_a_year_for_every_demo_team_with_every_outcome_and_a_rerun_adds_nothing(app, ctx):
    build_demo_history(today=TODAY, per_day=15)
    teams = db.session.execute(db.select(Team.code, func.count(func.distinct(func.substr(
        func.cast(Contact.occurred_on, db.String), 1, 7)))).join(Contact,
                                                                 Contact.team_id == Team.id)
        .filter(Contact.occurred_on >= _months_back(TODAY, 12),
                Contact.occurred_on < TODAY.replace(day=1))
        .group_by(Team.code)).all()
    assert dict(teams) == {"aurore_nord": 12, "aurore_est": 12, "gaia_mobile": 12}
    statuses = set(db.session.execute(db.select(Referral.status).distinct()).scalars())
    assert statuses == {"proposed", "accepted", "refused", "admitted", "exited"}
    by_status = (dict(db.session.execute(
        db.select(Shift.status, func.max(Shift.shift_on)).group_by(Shift.status)).all()))
    assert by_status["closed"] == TODAY - timedelta(days=1)  # the last week waits for a supervisor
    assert by_status["validated"] <= TODAY - timedelta(days=8)
    assert "open" not in by_status  # today is left to the person trying the app
    counts = [db.session.scalar(db.select(func.count()).select_from(m))
              for m in (Shift, Contact, Referral)]
    assert counts[1] > 4000

    assert build_demo_history(today=TODAY, per_day=15) == "demo history: already up to date"
    assert [db.session.scalar(db.select(func.count()).select_from(m))
            for m in (Shift, Contact, Referral)] == counts
    later = build_demo_history(today=TODAY + timedelta(days=3), per_day=15)
    assert later.startswith(f"demo history {TODAY.isoformat()} to "
                            f"{(TODAY + timedelta(days=2)).isoformat()}")


def test_gaia_has_a_supervisor_and_an_admin_among_the_demo_logins():
    assert {(role, org) for _, role, org, _ in DEMO_USERS
            if org == "gaia"} >= {("supervisor", "gaia"),
                                   ("admin", "gaia")}
