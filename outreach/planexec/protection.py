"""The one place where plan-execution figures derived from persons meet disclosure protection."""
from ..indicators.suppression import suppress_value


def protect_count(value):
    """A count of persons, stays or exits as a plan-level reader may see it."""
    return suppress_value(value)
