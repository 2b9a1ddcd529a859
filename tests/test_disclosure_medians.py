"""Issue 17: a median is withheld from a plan manager when the (perturbed) count of its inputs is
small."""
import pytest
from test_indicators_measures import MARCH, world  # noqa: F401 (world: the fixture)

from outreach.extensions import db
from outreach.indicators import services
from outreach.indicators.suppression import Hidden
from outreach.models import User


@pytest.mark.usefixtures("world")
def test_a_median_of_few_admissions_is_withheld_from_a_manager_only():
    """Two admissions in March: the median waiting time is the supervisor's, never the manager's."""
    users = {u.role: u for u in db.session.execute(db.select(User)).scalars()}
    period = services.Period(MARCH[0], MARCH[1])
    exact = services.Dashboard(period, {}, users["supervisor"])._median("median_days_waiting", {},
                                                                         period)
    hidden = services.Dashboard(period, {}, users["manager"])._median("median_days_waiting", {},
                                                                      period)
    assert exact == 5.5 and isinstance(hidden, Hidden)
