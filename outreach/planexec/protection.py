"""The one place where plan-execution figures derived from persons meet disclosure protection.

The report card counts across every organisation, whoever reads it, so its person-derived counts are
protected for every reader (not only plan managers), by the dashboard's one rule
(``indicators.suppression``): withheld below the threshold, otherwise perturbed by bounded noise
drawn from the cell's key.

A cell's key comes from the records it counts, as ``indicators.cellkeys`` does for roll-up atoms:
here the sum (modulo 2^64) of the keys of the referral rows (stays, exits, refusals) behind the
figure. The same records give the same published value whatever the period asked; two cells with the
same true value but other records get independent noise. (A key per family, as first written, made
the noise a function of the true value alone: whoever learnt that function from one known cell could
undo the noise of every other, then subtract two cells to recover a withheld count.) Persons reached
is the dashboard's own file-active cell, with the dashboard's key, so both surfaces publish one
value for it.
"""
from functools import lru_cache

from flask import current_app

from ..indicators.cellkeys import MASK, PERSONS_ROLLUP, CellKeys, _hash
from ..indicators.measures import MEASURES
from ..indicators.suppression import current_rules
from ..indicators.suppression import protect_count as protect


@lru_cache(maxsize=200_000)
def record_key(referral_id):
    return _hash(f"referral|{referral_id}") | 1


def records_key(referral_ids):
    """Key of a cell counting (or summing over) these referral rows."""
    return sum(record_key(i) for i in referral_ids) & MASK


def protect_count(tally, family):
    """A count (stays, nights, exits: a ``measures.Tally`` of referral rows) as any plan-level
    reader may see it; ``family`` names the figure, so that two figures over the same records are
    perturbed independently."""
    key = records_key(tally.ids) if tally.key is None else tally.key & MASK
    return protect(tally, key, _rules(), family=f"planexec.{family}")


def _rules():
    """``current_rules()``, derived once per set of settings (a card protects some 200 cells)."""
    config = current_app.config
    settings = tuple(str(config.get(k))
                     for k in ("DISCLOSURE_CONTROL", "SUPPRESSION_THRESHOLD", "DISCLOSURE_NOISE",
                                "DISCLOSURE_KEY", "PSEUDONYM_KEY"))
    rules = _RULES.get(settings)
    if rules is None:
        rules = current_rules()
        if len(_RULES) > 8:
            _RULES.clear()
        _RULES[settings] = rules
    return rules


_RULES = {}


def protect_persons(value, month):
    """The dashboard's file active ending with ``month``, published with the dashboard's cell
    key."""
    measure = MEASURES["file_active"]
    # the one roll-up measure the key sums (without it, every measure of the 12 months is read)
    key = CellKeys((month, month), (PERSONS_ROLLUP,)).key(measure, {}, (month, month))
    return protect(value, key, current_rules(), family=measure.kind)
