"""The contact contract: what a contact may be, written once.

Every path that writes a contact calls these functions: the logging and edit forms
(``contacts.forms`` then ``contacts.services``), the JSON API the offline queue posts to
(``api.write``), the import (``imports.checks``), the supervisor's corrections
(``review.services``). The OpenAPI document takes its limits from ``json_schema`` and the database
backs the cross-field rules with CHECK constraints built from the same constants
(``models.Contact``, migration 0002).

- kind: known (a person with a pseudonym code), anonymous (a passage of N people, no code),
  refusal (refusal / no contact, no code);
- known: exactly one person and ``people_count`` = 1;
- anonymous and refusal: no person, ``people_count`` from MIN_PEOPLE to MAX_PEOPLE;
- material given in a contact: whole quantities from 0 to MAX_QUANTITY per item;
- a time without a zone (``2026-11-20T21:00``) is Paris local time (Europe/Paris); a time with one
  (``Z``, ``+01:00``) is converted. At the autumn change an hour that happens twice is its first
  occurrence (summer time); in spring an hour that does not exist is read with the winter offset
  (02:30 is stored as 01:30 UTC, i.e. 03:30 summer time).

This module imports nothing of the app but its errors (``models`` imports it for the constraints).
"""
import datetime as dt
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from .errors import ValidationError

KINDS = ("known", "anonymous", "refusal")
SEXES = ("f", "m", "x")
AGE_BANDS = ("u18", "18_25", "26_35", "36_45", "46_55", "o55", "unknown")
MIN_PEOPLE, MAX_PEOPLE = 1, 500
MIN_QUANTITY, MAX_QUANTITY = 0, 1000
TIME_ZONE = ZoneInfo("Europe/Paris")


def local_date(naive_utc):
    """Europe/Paris date of a naive UTC datetime (a night shift belongs to the date it starts)."""
    return naive_utc.replace(tzinfo=dt.UTC).astimezone(TIME_ZONE).date()


def local_today():
    """Today in the service's zone (Europe/Paris): what "today" means on every page, form, import,
    export and default period. The machine's clock is UTC: from midnight in Paris to midnight UTC,
    ``date.today()`` is still yesterday (an import refused a tally of the night as "in the
    future")."""
    return dt.datetime.now(TIME_ZONE).date()

# The database half of the rules (models.Contact.__table_args__; migration 0002 holds its own frozen
# copy).
CHECKS = {
    "known_one_person": "kind <> 'known' OR (person_id IS NOT NULL AND people_count = 1)",
    "unknown_no_person": "kind = 'known' OR person_id IS NULL",
    "people_count_range": f"people_count BETWEEN {MIN_PEOPLE} AND {MAX_PEOPLE}",
}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# --- one field at a time --------------------------------------------------------------------------

def check_kind(value, field="kind"):
    if value not in KINDS:
        raise ValidationError({field: _("Type de contact inconnu (known, anonymous ou refusal).")})
    return value


def check_choice(name, value, field=None):
    """``sex`` or ``age_band``: one of its codes, or None when empty."""
    allowed = {"sex": SEXES, "age_band": AGE_BANDS}[name]
    if value in (None, ""):
        return None
    if value not in allowed:
        label = _("Sexe") if name == "sex" else _("Tranche d'âge")
        raise ValidationError(
            {field or name: _("%(label)s : valeur inconnue (%(codes)s).", label=label,
                              codes=", ".join(allowed))})
    return value


def _bounded(value, low, high, field, message):
    """``value`` when it is a whole number from ``low`` to ``high``, else a refusal of ``field``."""
    if not _is_int(value) or not low <= value <= high:
        raise ValidationError({field: message(low=low, high=high)})
    return value


def check_people_count(value, field="people_count"):
    """A whole number of people within the limits (whatever the kind)."""
    return _bounded(value, MIN_PEOPLE, MAX_PEOPLE, field,
                    lambda **limits: _("Nombre de personnes entre %(low)s et %(high)s.", **limits))


def check_quantity(value, field="materials"):
    """A quantity of one material given in a contact."""
    return _bounded(value, MIN_QUANTITY, MAX_QUANTITY, field,
                    lambda **limits: _("Quantité de matériel entre %(low)s et %(high)s.", **limits))


def parse_whole(text, field, check):
    """``check`` applied to the whole number written in ``text`` (digits only), else its own
    message."""
    text = (text or "").strip()
    value = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else -1
    return check(value, field)


# --- across fields --------------------------------------------------------------------------------

def combination_errors(kind, has_person, people_count, person_field="person"):
    """{field: message} for what ``kind`` forbids: a known contact has one person and counts 1;
    an anonymous passage or a refusal has no person."""
    errors = {}
    if kind == "known":
        if not has_person:
            errors[person_field] = _("Code personne obligatoire pour un contact connu.")
        if people_count != 1:
            errors["people_count"] = _(
                "Un contact connu compte une seule personne (nombre de personnes : 1) ; "
                "pour un groupe, choisissez un passage anonyme.")
    elif has_person:
        errors[person_field] = _("Pas de code personne pour un passage anonyme ou un refus.")
    return errors


def check_combination(kind, has_person, people_count, person_field="person"):
    errors = combination_errors(kind, has_person, people_count, person_field)
    if errors:
        raise ValidationError(errors)


def check_contact(kind, has_person, people_count, person_field="person"):
    """Every rule of the contract on the three values that decide a contact's shape; returns
    people_count.

    ``people_count`` None means "not given": 1."""
    check_kind(kind)
    people_count = check_people_count(1 if people_count is None else people_count)
    check_combination(kind, has_person, people_count, person_field)
    return people_count


# --- time -----------------------------------------------------------------------------------------

def to_utc(value):
    """Naive UTC for a datetime: aware -> converted; naive -> read as Paris local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=TIME_ZONE)
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def parse_datetime(value, field):
    """An ISO 8601 date and time (text) as naive UTC; without a zone it is Paris local time."""
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value,
                                                                str) and len(value) > 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(
            {field: _("Date et heure ISO 8601 attendues (sans fuseau : heure de Paris).")})
    return to_utc(parsed)


def local_to_utc(day, clock):
    """Naive UTC of a Paris wall-clock ``clock`` (time) on the Paris date ``day``."""
    return to_utc(dt.datetime.combine(day, clock))


# --- the OpenAPI document -------------------------------------------------------------------------

TIME_DESCRIPTION = ("Date et heure ISO 8601. Avec un fuseau (Z, +01:00) elle est convertie ; sans "
                    "fuseau (2026-11-20T21:00) elle est lue à l'heure de Paris (Europe/Paris). A "
                    "time without a zone is Paris local time.")


TIME_SCHEMA = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}",
               "description": TIME_DESCRIPTION,
               "examples": ["2026-11-20T21:00:00Z", "2026-11-20T22:00:00+01:00",
                            "2026-11-20T22:00"]}


def json_schema():
    """Schema pieces of an encounter, with the limits above."""
    return {
        "kind": {"type": "string", "enum": list(KINDS),
                 "description": "known : une personne (person obligatoire, people_count = 1) ; "
                                "anonymous, refusal : aucune personne (pas de person), "
                                "people_count de "
                                f"{MIN_PEOPLE} à {MAX_PEOPLE}."},
        "people_count": {"type": "integer", "minimum": MIN_PEOPLE, "maximum": MAX_PEOPLE,
                         "description": "1 pour un contact connu."},
        "sex": {"type": "string", "enum": list(SEXES)},
        "age_band": {"type": "string", "enum": list(AGE_BANDS)},
        "materials": {"type": "object", "additionalProperties": {
            "type": "integer", "minimum": MIN_QUANTITY, "maximum": MAX_QUANTITY}},
        "occurred_at": TIME_SCHEMA,
    }


def json_rules():
    """The cross-field rules as JSON Schema (2020-12, OpenAPI 3.1): known has a person and counts
    1; the other kinds have none."""
    return [{"if": {"properties": {"kind": {"const": "known"}}, "required": ["kind"]},
             "then": {"required": ["person"], "properties": {"people_count": {"const": 1}}},
             "else": {"not": {"required": ["person"]}}}]
