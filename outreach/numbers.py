"""Numbers as people read them, in the interface language: the one formatting helper of every page.

"7 184,9", "−2 139,2" and "26,3 %" in French, "7,184.9" and "26.3%" in English (Babel, through the
request's locale; French outside a request, as the CLI exports). Withheld cells show "< 5", a share
or rate computed from a withheld count shows "s" (secret), a figure that cannot be computed shows
"—".
"""
from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from flask import has_request_context
from flask_babel import get_locale

from .indicators.suppression import Hidden

MINUS = "\u2212"  # the typographic minus sign: "−2 139,2", not a hyphen
MISSING = "—"
SECRET = "s"


def _locale():
    return (get_locale() if has_request_context() else None) or "fr"


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
    return _signs(format_decimal(_exact(value, decimals), locale=_locale(),
                                 decimal_quantization=False))


def percent(value, decimals=1):
    """A share in percent units (26.3 means 26.3 %); "s" when it would come from a withheld
    count."""
    if value is None:
        return MISSING
    if isinstance(value, Hidden):
        return SECRET
    return _signs(format_percent(_exact(value, decimals) / 100, locale=_locale(),
                                 decimal_quantization=False))


def signed(value, decimals=1):
    """A change: "+12", "−3,5", "0"."""
    text = number(value, decimals)
    return "+" + text if isinstance(value, (int, float)) and round(value, decimals) > 0 else text


def init_app(app):
    app.add_template_global(number, "fmt")
    app.add_template_global(percent, "percent")
    app.add_template_global(signed, "signed")
