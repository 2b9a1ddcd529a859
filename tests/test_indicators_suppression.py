"""Disclosure control, the pure part: the perturbation table and the rule for one count."""
import random
from collections import Counter

from outreach.indicators.cellkeys import atom_key
from outreach.indicators.suppression import (
    Hidden,
    Rules,
    display,
    noise,
    perturbation_table,
    protect_count,
)

RULES = Rules(threshold=5, noise=2, key=b"test-disclosure-key")


def test_the_table_is_bounded_and_zero_mean():
    noises, cumulative = perturbation_table(2)
    probabilities = [b - a for a, b in zip([0.0] + cumulative, cumulative)]
    assert noises == [-2, -1, 0, 1, 2] and abs(sum(probabilities) - 1) < 1e-9
    assert abs(sum(e * p for e, p in zip(noises, probabilities))) < 1e-9
    assert probabilities[2] > 0.5  # most figures are published unchanged


def test_counts_below_the_threshold_zero_included_are_withheld():
    for value in range(5):
        shown = protect_count(value, random.getrandbits(64), RULES)
        assert isinstance(shown, Hidden) and display(shown) == "< 5"


def test_a_cell_always_gets_the_same_value_and_another_key_another_draw():
    key = atom_key(1, "contacts_known", 0, __import__("datetime").date(2026, 9, 1))
    assert len({protect_count(40, key, RULES) for _ in range(5)}) == 1
    draws = Counter(noise(random.getrandbits(64), 40, RULES) for _ in range(4000))
    assert set(draws) == {-2, -1, 0, 1, 2} and draws[0] > draws[1] > draws[2]


def test_published_counts_stay_within_the_bound_and_never_below_the_threshold():
    rng = random.Random(7)
    for _ in range(3000):
        value = rng.randint(5, 200)
        shown = protect_count(value, rng.getrandbits(64), RULES)
        assert isinstance(shown, Hidden) or (abs(shown - value) <= 2 and shown >= 5)
        # withheld: the truth is at most 6
        assert not isinstance(shown, Hidden) or value <= 5 + 2 - 1


def test_without_rules_figures_are_exact():
    assert protect_count(3, 123, None) == 3 and protect_count(2.5, 1, None) == 2.5
