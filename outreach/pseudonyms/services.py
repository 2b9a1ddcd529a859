"""Pseudonym codes. Raw inputs live only in local variables here: never stored, logged or returned."""
import hashlib
import re
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..errors import ValidationError
from ..extensions import db
from ..models import Person

HEX64 = re.compile(r"^[0-9a-f]{64}$")
SEX_CODES = {"f": "F", "m": "M", "x": "X"}


def normalise(text):
    """NFD, strip combining marks, upper case, non A-Z0-9 -> space, collapse, trim."""
    decomposed = unicodedata.normalize("NFD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(re.sub(r"[^A-Z0-9]", " ", plain).split())


def _birth(text):
    text = (text or "").strip()
    return text if re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", text) else ""


def digest_from_inputs(initial, name, birth, sex):
    """Stage-1 digest, identical to static/js/log.js; returns (hex digest, is_weak)."""
    first, last, year = normalise(initial)[:1], normalise(name), _birth(birth)
    sex_code = SEX_CODES.get((sex or "").strip().lower(), "")
    message = "|".join((current_app.config["PLAN_SALT"], first, last, year, sex_code))
    digest = hashlib.sha256(message.encode("utf-8")).hexdigest()
    return digest, not (first and last and year)


def check_digest(digest):
    """The digest if it is 64 lowercase hex characters, else a ValidationError naming it."""
    value = (digest or "").strip().lower()
    if not HEX64.match(value):
        raise ValidationError({"digest": _("Code personne invalide (empreinte attendue).")})
    return value


def code_from_digest(digest):
    """Stage-2 keyed HMAC folded over the key chain (maintenance.keys): the only value stored (Person.code)."""
    from ..maintenance.keys import pseudonym_code
    return pseudonym_code(check_digest(digest), current_app.config["PSEUDONYM_KEY"])


def codes_from_digests(digests):
    """``{digest: code}`` for many digests at once (imports); each is checked as in ``code_from_digest``."""
    from ..maintenance.keys import pseudonym_codes
    return pseudonym_codes({check_digest(d) for d in digests}, current_app.config["PSEUDONYM_KEY"])


def find_person(code):
    return db.session.execute(db.select(Person).filter_by(code=code)).scalar_one_or_none()


def person_status(code, user):
    """What may cross organisations: known or not, last seen date and team name."""
    person = find_person(code)
    if person is None or person.last_seen_on is None:
        return {"known": False, "last_seen_on": None, "last_seen_team": None}
    team = person.last_seen_team
    return {"known": True, "last_seen_on": person.last_seen_on.isoformat(),
            "last_seen_team": team.name if team else None}


def _insert_person(code, is_weak, seen_on):
    """INSERT the person unless its code exists, atomically on both databases; True when inserted.

    Two workers meeting the same new person at the same moment both run this: on PostgreSQL the second
    waits on the unique code until the first commits, then inserts nothing (never a unique violation)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Person).values(code=code, is_weak=is_weak, first_seen_on=seen_on)
    statement = statement.on_conflict_do_nothing(index_elements=["code"]).returning(Person.id)
    return db.session.execute(statement).scalar() is not None


def touch_person(code, is_weak, seen_on, team):
    """Create or get the person for ``code`` (atomic create-or-get) and update its dates; (person, is_new)."""
    person = find_person(code)
    is_new = person is None and _insert_person(code, is_weak, seen_on)
    if person is None:
        person = find_person(code)
    if person.first_seen_on is None or seen_on < person.first_seen_on:
        person.first_seen_on = seen_on
    if person.last_seen_on is None or seen_on >= person.last_seen_on:
        person.last_seen_on, person.last_seen_team = seen_on, team
    return person, is_new
