"""Numbers as people read them, in the interface language: the one formatting helper of every page.

"7 184,9", "−2 139,2" and "26,3 %" in French, "7,184.9" and "26.3%" in English (Babel, through the
request's locale; French outside a request, as the CLI exports). Withheld cells show "< 5", a share
or rate computed from a withheld count shows "s" (secret), a figure that cannot be computed shows
"—".
"""
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_group_symbol
from flask import has_request_context
from flask_babel import get_locale

from .indicators.suppression import Hidden

MINUS = "\u2212"  # the typographic minus sign: "−2 139,2", not a hyphen
MISSING = "—"
SECRET = "s"


def _locale():
    return (get_locale() if has_request_context() else None) or "fr"


@lru_cache(maxsize=8)
def _patterns(name):
    """The locale, its decimal and percent patterns, parsed once per process (Babel's
    format_decimal/format_percent parse them on every call: 45 and 150 µs a number, 20 ms of a
    report card's 330 numbers), and its group separator when whole numbers may skip Babel."""
    locale = Locale.parse(name)
    decimal = locale.decimal_formats[None]
    plain = (decimal.grouping == (3, 3) and decimal.prefix == ("", "-")
             and decimal.suffix == ("", ""))
    group = get_group_symbol(locale) if plain else None
    return locale, decimal, locale.percent_formats[None], group


def _format(value, kind):
    locale, decimal, percent_, group = _patterns(str(_locale()))
    whole = value.is_finite() and value == value.to_integral_value()
    if kind == "decimal" and group is not None and whole:
        # a whole number in a locale grouping by thousands: what Babel's pattern gives, without
        # its per-number work (most cells of a dashboard are counts)
        return _signs(f"{int(value):,}".replace(",", group))
    pattern = decimal if kind == "decimal" else percent_
    return _signs(pattern.apply(value, locale, decimal_quantization=False))


def _signs(text):
    return MINUS + text[1:] if text.startswith("-") else text


def _exact(value, decimals):
    """The value rounded as shown, as an exact decimal (no "33,299999 %"); minus zero as zero."""
    return Decimal(str(round(float(value), decimals))) + 0


def number(value, decimals=1):
    """A count or measure: thousands separated, at most ``decimals`` decimals (none shown when
    whole)."""
    if value is None:
        return MISSING
    if isinstance(value, Hidden):
        return str(value)
    return _format(_exact(value, decimals), "decimal")


def percent(value, decimals=1):
    """A share in percent units (26.3 means 26.3 %); "s" when it would come from a withheld
    count."""
    if value is None:
        return MISSING
    if isinstance(value, Hidden):
        return SECRET
    return _format(_exact(value, decimals) / 100, "percent")


def signed(value, decimals=1):
    """A change: "+12", "−3,5", "0"."""
    text = number(value, decimals)
    return "+" + text if isinstance(value, (int, float)) and round(value, decimals) > 0 else text


def init_app(app):
    app.add_template_global(number, "fmt")
    app.add_template_global(percent, "percent")
    app.add_template_global(signed, "signed")
