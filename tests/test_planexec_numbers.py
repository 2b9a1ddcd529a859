"""The report card's figures (~330 a page) are written without Babel's per-number work by
``outreach/numbers.py``'s plain writer: what it writes must be what Babel's patterns write, in both
languages, counts, measures and percents alike."""
import random

from outreach import numbers
from outreach.numbers import number, percent, signed


def _values():
    rng = random.Random(20)
    fixed = [0, -0.0, 0.04, -0.04, 0.05, 0.15, 0.25, 0.5, 1, -1, 2.675, 1.005, 99.95, 100 / 3,
             200 / 3, 999, 1000, -1000, 999_999.95, 1e6, 123_456_789.123, 2 ** 40, -(2 ** 40),
             1e14, 9.99e14, 2 ** 60, 1e20]
    return (fixed + [rng.uniform(-1e7, 1e7) for _ in range(300)]
            + [rng.uniform(-200, 200) for _ in range(300)]
            + [rng.randint(-10 ** 9, 10 ** 9) for _ in range(300)]
            + [k / 10 for k in range(-1500, 1500, 7)])


def test_the_plain_writer_writes_what_babel_writes(app):
    for lang in ("fr", "en"):
        with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
            locale, decimal, percent_, plain = numbers._patterns(lang)
            assert plain is not None  # else every figure would go through Babel: no test here
            for value in _values():
                for decimals in (0, 1, 2, 3):
                    exact = numbers._exact(value, decimals)
                    babel_number = decimal.apply(exact, locale, decimal_quantization=False)
                    babel_percent = percent_.apply(exact / 100, locale, decimal_quantization=False)
                    assert number(value, decimals) == numbers._signs(babel_number), (lang, value)
                    assert percent(value, decimals) == numbers._signs(babel_percent), (lang, value)
            assert signed(1234.5) == ("+1\u202f234,5" if lang == "fr" else "+1,234.5")
