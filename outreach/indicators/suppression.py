"""Disclosure control for aggregates that leave an organisation: cell-key perturbation.

The method of the national statistical offices' flexible table builders (ABS TableBuilder, the ONS
census "cell key method"), chosen because a plan manager may ask any period, filter and group-by:

- Every published count is a *cell*, a set of records. Its key (``cellkeys``) is the sum of the keys
  of the roll-up atoms it counts, so the same records give the same key whatever page, export, API
  call or open-data table asked for them; a total is a cell of its own.
- The published value is ``true + noise``, the noise read from a bounded zero-mean table (from -D to
  +D, D = ``DISCLOSURE_NOISE``) at a place chosen by HMAC(DISCLOSURE_KEY, key | true value): always
  the same for the same cell, unpredictable without the key. Subtracting two published cells gives
  the hidden difference plus the difference of two noises, never the exact hidden value.
- A count is withheld ("< N") when its true value or its perturbed value is below the threshold N,
  zero included: a withheld cell may hold anything from 0 to N - 1 + D, so bounds derived by
  subtraction do not close on one small value.
- Ratios are computed from published parts and withheld with them; medians are withheld when the
  perturbed count of their inputs is.

Plan managers and instance admins read protected figures; an organisation reads its own exactly.
``DISCLOSURE_CONTROL=off`` turns the protection off (exact figures, for tests of the measures).
"""
import bisect
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _

from ..access import is_plan_level

METHOD = "cell-key perturbation"


@dataclass(frozen=True)
class Hidden:
    """A withheld count; ``str()`` gives what is shown."""
    threshold: int

    def __str__(self):
        return f"< {self.threshold}"


@dataclass(frozen=True)
class Rules:
    threshold: int
    noise: int
    key: bytes


def threshold():
    return int(current_app.config.get("SUPPRESSION_THRESHOLD", 5))


def needs_suppression(user):
    """Plan managers and instance admins see every organisation: their aggregates are protected."""
    return is_plan_level(user)


def is_enabled():
    return (str(current_app.config.get("DISCLOSURE_CONTROL",
                                       "on")).lower() not in ("off", "0", "false", "no"))


def rules_for(user):
    """The protection applied to ``user``'s figures, or None when they are exact."""
    if not needs_suppression(user):
        return None
    return current_rules()


def current_rules():
    """The instance's protection (None when turned off): for figures that span every organisation,
    whoever reads."""
    if not is_enabled():
        return None
    return Rules(threshold(), max(0, int(current_app.config.get("DISCLOSURE_NOISE", 2))),
                 disclosure_key())


def disclosure_key():
    """DISCLOSURE_KEY, or else one derived from the first (never rotated) pseudonym key."""
    explicit = current_app.config.get("DISCLOSURE_KEY")
    if explicit:
        return str(explicit).encode()
    first = str(current_app.config.get("PSEUDONYM_KEY") or "").split(",")[0]
    return hmac.new(first.encode(), b"outreach disclosure control", hashlib.sha256).digest()


# --- the perturbation table -------------------------------------------------------

@lru_cache(maxsize=8)
def perturbation_table(bound):
    """(noises, cumulative probabilities): -bound..+bound, weights 4^-|e| (zero mean, mostly 0 or
    ±1)."""
    noises = list(range(-bound, bound + 1))
    weights = [4.0 ** -abs(e) for e in noises]
    total, running, cumulative = sum(weights), 0.0, []
    for w in weights:
        running += w / total
        cumulative.append(running)
    cumulative[-1] = 1.0
    return noises, cumulative


def noise(key, value, rules, family="count"):
    """The cell's noise: a fixed place in the table chosen by HMAC(key of the rules, family | key |
    value)."""
    message = f"{family}|{key}|{value}".encode()
    digest = hmac.new(rules.key, message, hashlib.sha256).digest()
    draw = int.from_bytes(digest[:8], "big") / 2 ** 64
    noises, cumulative = perturbation_table(rules.noise)
    return noises[bisect.bisect_right(cumulative, draw)]


def protect_count(value, key, rules, family="count"):
    """A count as published: withheld when it or its perturbed value is below the threshold, else
    perturbed.

    Non-integer sums (staff hours) are rounded to whole units first."""
    if rules is None or value is None or isinstance(value, Hidden):
        return value
    true = round(value)
    if true < rules.threshold:
        return Hidden(rules.threshold)
    published = max(0, true + noise(key, true, rules, family))
    return Hidden(rules.threshold) if published < rules.threshold else published


def is_shown(value):
    """A number that may be used in a further computation (not withheld, not missing)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def describe(rules):
    """What was done to the numbers, for machine-readable outputs (API, open data)."""
    if rules is None:
        return {"applied": False, "method": "none", "threshold": threshold(), "max_noise": 0}
    return {"applied": True, "method": METHOD, "threshold": rules.threshold,
            "max_noise": rules.noise}


def legend(user):
    """What was done to ``user``'s numbers and why, in one paragraph for legends and definition
    sheets."""
    rules = rules_for(user)
    if rules is None and needs_suppression(user):
        return _(
            "Secret statistique désactivé sur cette instance (réglage de test) : chiffres exacts.")
    if rules is None:
        return _(
            "Chiffres exacts de votre organisation : le secret statistique ne s'applique qu'aux "
            "chiffres lus hors de l'organisation concernée.")
    return _(
        "Secret statistique : chaque chiffre publié hors de l'organisation concernée est décalé "
        "d'au plus %(d)s, toujours du même décalage pour les mêmes données, et tout chiffre "
        "inférieur à %(n)s (zéro compris) est masqué « < %(n)s ». Ainsi, soustraire deux tableaux"
        " ne redonne jamais un petit effectif d'une organisation. Les taux et médianes sont "
        "calculés sur les chiffres publiés ; un total peut différer de la somme de ses lignes de "
        "quelques unités.", d=rules.noise, n=rules.threshold)


def display(value):
    """Text for a cell (hidden cells, None and numbers), in the interface language:
    ``outreach.numbers``."""
    from ..numbers import number
    return number(value)
