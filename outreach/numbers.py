"""Numbers as people read them, in the interface language: the one formatting helper of every page.

"7 184,9", "−2 139,2" and "26,3 %" in French, "7,184.9" and "26.3%" in English (Babel, through the
request's locale; French outside a request, as the CLI exports). Withheld cells show "< 5", a share
or rate computed from a withheld count shows "s" (secret), a figure that cannot be computed shows
"—".
"""
from decimal import Decimal
from functools import lru_cache, partial

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import has_request_context
from flask_babel import get_locale

from .indicators.suppression import Hidden

MINUS = "\u2212"  # the typographic minus sign: "−2 139,2", not a hyphen
MISSING = "—"
SECRET = "s"


def _locale():
    return (get_locale() if has_request_context() else None) or "fr"


# The pattern of a number the plain writer below reproduces (French and English): grouped by
# thousands, no prefix or suffix; a percent must be that number followed by its sign.
PLAIN_DECIMAL = "#,##0.###"


@lru_cache(maxsize=8)
def _patterns(name):
    """The locale, its decimal and percent patterns, parsed once per process (Babel's
    format_decimal/format_percent parse them on every call: 45 and 150 µs a number, 20 ms of a
    report card's 330 numbers), and, when both are plain, what the plain writer needs: (group
    separator, decimal sign, percent suffix)."""
    locale = Locale.parse(name)
    decimal, percent_ = locale.decimal_formats[None], locale.percent_formats[None]
    plain = None
    if (decimal.pattern == PLAIN_DECIMAL and percent_.prefix == ("", "-")
            and percent_.suffix[0] == percent_.suffix[1]
            and percent_.pattern == "#,##0" + percent_.suffix[0]):
        plain = (get_group_symbol(locale), get_decimal_symbol(locale), percent_.suffix[0])
    return locale, decimal, percent_, plain


_last = (None, None)  # the last request's locale object and its patterns (one lookup a number)


def _current():
    global _last
    locale, found = _last
    now = _locale()
    if now is not locale:
        found = _patterns(str(now))
        _last = (now, found)
    return found


PLAIN_LIMIT = Decimal(10) ** 15  # far below the digits of a float or a Decimal's context


WHOLE = 2 ** 53  # a whole number below it is what its float rounds to


def _plain(value, group, point):
    """A finite decimal as Babel writes it with a plain pattern and no quantization: every digit of
    its normal form, thousands grouped."""
    whole, _, fraction = format(value.copy_abs(), "f").partition(".")
    fraction = fraction.rstrip("0")
    return _grouped(int(whole), group, value < 0) + (point + fraction if fraction else "")


def _grouped(whole, group, negative):
    text = f"{whole:,}".replace(",", group)
    return MINUS + text if negative else text


def _format(value, kind, found):
    locale, decimal, percent_, plain = found
    if plain is not None and value.is_finite() and abs(value) < PLAIN_LIMIT:
        text = _plain(value, plain[0], plain[1])
        return text if kind == "decimal" else text + plain[2]
    if kind == "percent":
        value = value / 100
    pattern = decimal if kind == "decimal" else percent_
    return _signs(pattern.apply(value, locale, decimal_quantization=False))


def _signs(text):
    return MINUS + text[1:] if text.startswith("-") else text


def _exact(value, decimals):
    """The value rounded as shown, as an exact decimal (no "33,299999 %"); minus zero as zero."""
    return Decimal(str(round(float(value), decimals))) + 0


def number(value, decimals=1, found=None):
    """A count or measure: thousands separated, at most ``decimals`` decimals (none shown when
    whole). ``found``: the locale's patterns (``_current()``), when a caller resolved them."""
    if value is None:
        return MISSING
    if isinstance(value, Hidden):
        return str(value)
    if isinstance(value, int) and -WHOLE < value < WHOLE:  # a count: nothing to round
        plain = (found or _current())[3]
        if plain is not None:
            return _grouped(abs(int(value)), plain[0], value < 0)
    return _format(_exact(value, decimals), "decimal", found or _current())


def percent(value, decimals=1, found=None):
    """A share in percent units (26.3 means 26.3 %); "s" when it would come from a withheld
    count."""
    if value is None:
        return MISSING
    if isinstance(value, Hidden):
        return SECRET
    return _format(_exact(value, decimals), "percent", found or _current())


def signed(value, decimals=1, found=None):
    """A change: "+12", "−3,5", "0"."""
    text = number(value, decimals, found)
    return "+" + text if isinstance(value, (int, float)) and round(value, decimals) > 0 else text


def bound():
    """``fmt``, ``percent`` and ``signed`` for one page in the current language, its patterns
    resolved once: looking the request's locale up again cost 5-6 µs a number, 2 ms of a report
    card's 330 numbers. Passed to ``render_template``, they stand in for the template globals."""
    found = _current()
    return {"fmt": partial(number, found=found), "percent": partial(percent, found=found),
            "signed": partial(signed, found=found)}


def init_app(app):
    app.add_template_global(number, "fmt")
    app.add_template_global(percent, "percent")
    app.add_template_global(signed, "signed")
