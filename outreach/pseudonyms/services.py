"""Pseudonym codes. Raw inputs live only in local variables here: never stored, logged or returned.

Stage 1 (README "Pseudonym codes", the specification) is computed the same way by static/src/log.js
in the browser; tests/test_pseudonyms_browser.py runs both over every character and compares
them."""
import hashlib
import re
import unicodedata

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from ..errors import ValidationError
from ..extensions import db
from ..models import Person

HEX64 = re.compile(r"^[0-9a-f]{64}$")
SEX_CODES = {"f": "F", "m": "M", "x": "X"}
# Letters that no Unicode decomposition turns into A-Z (upper case: folding comes after
# upper-casing).
FOLD = {"Æ": "AE", "Ð": "D", "Đ": "D", "Ħ": "H", "Ł": "L", "Ŋ": "N", "Ø": "O", "Œ": "OE", "Þ": "TH",
        "Ŧ": "T", "ẞ": "SS", "Ɓ": "B", "Ɗ": "D", "Ɛ": "E", "Ɔ": "O", "Ƙ": "K", "Ɲ": "N", "Ƴ": "Y"}
APOSTROPHES = re.compile("['`\u00b4\u2018\u2019\u02bc\uff07]")
# Kept before decomposition: U+0000-036F (Latin up to the combining diacritics), the other combining
# diacritical blocks, Latin Extended Additional (Vietnamese), the ligatures ﬀ-ﬆ and full-width
# ASCII. Fixed blocks, so that a newer Unicode in the browser or in Python cannot change the result.
OUTSIDE = re.compile(
    "[^\x00-\u036f\u1ab0-\u1aff\u1dc0-\u1eff\u20d0-\u20ff\ufb00-\ufb06\ufe20-\ufe2f\uff01-\uff5e]")
MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
NOT_ALNUM = re.compile("[^A-Z0-9]+")
DAY_FIRST = re.compile("^([0-9]{1,2}) ([0-9]{1,2}) ([0-9]{4})$")
YEAR_OR_DATE = re.compile("^([0-9]{4})(?: ([0-9]{1,2}) ([0-9]{1,2}))?$")


def normalise(text):
    """Apostrophes dropped; outside the kept blocks -> space; NFKD, upper case, NFKD; diacritics
    dropped; FOLD; anything but A-Z 0-9 -> space; spaces collapsed and trimmed."""
    text = OUTSIDE.sub(" ", APOSTROPHES.sub("", text or ""))
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).upper())
    text = "".join(FOLD.get(c, c) for c in MARKS.sub("", text))
    return NOT_ALNUM.sub(" ", text).strip()


def normalise_birth(text):
    """A year (YYYY) or a date (YYYY-MM-DD) from a normalised year, year-month-day or
    day-month-year; else ""."""
    text = normalise(text)
    day_first = DAY_FIRST.match(text)
    if day_first:
        text = " ".join(reversed(day_first.groups()))
    found = YEAR_OR_DATE.match(text)
    if not found:
        return ""
    year, month, day = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}" if month else year


def stage1_text(initial, name, birth, sex):
    """The PBKDF2 password ``I|NAME|BIRTH|S`` and whether the code is weak (initial, name or birth
    missing)."""
    first, last, born = normalise(initial)[:1], normalise(name), normalise_birth(birth)
    sex_code = SEX_CODES.get((sex or "").strip().lower(), "")
    return f"{first}|{last}|{born}|{sex_code}", not (first and last and born)


def digest_from_inputs(initial, name, birth, sex):
    """Stage-1 digest, identical to static/src/log.js; returns (hex digest, is_weak).

    PBKDF2-HMAC-SHA-256 of ``stage1_text`` with the public PLAN_SALT and PSEUDONYM_ITERATIONS
    rounds: deliberately slow, so that the public salt does not make digests cheap to reverse."""
    text, is_weak = stage1_text(initial, name, birth, sex)
    config = current_app.config
    derived = hashlib.pbkdf2_hmac("sha256", text.encode("utf-8"),
                                  config["PLAN_SALT"].encode("utf-8"),
                                  int(config["PSEUDONYM_ITERATIONS"]))
    return derived.hex(), is_weak


def check_digest(digest):
    """The digest if it is 64 lowercase hex characters, else a ValidationError naming it."""
    value = (digest or "").strip().lower()
    if not HEX64.match(value):
        raise ValidationError({"digest": _("Code personne invalide (empreinte attendue).")})
    return value


def code_from_digest(digest):
    """Stage-2 keyed HMAC folded over the key chain (maintenance.keys): the only value stored
    (Person.code)."""
    from ..maintenance.keys import pseudonym_code
    return pseudonym_code(check_digest(digest), current_app.config["PSEUDONYM_KEY"])


def codes_from_digests(digests):
    """``{digest: code}`` for many digests at once (imports); each is checked as in
    ``code_from_digest``."""
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


def _insert_person(code, is_weak, seen_on, team_id):
    """INSERT the person unless its code exists, atomically on both databases; the new Person or
    None.

    Two workers meeting the same new person at the same moment both run this: on PostgreSQL the
    second waits on the unique code until the first commits, then inserts nothing (never a unique
    violation). The inserted row comes back with RETURNING and joins the session as it is (no second
    SELECT)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Person).values(code=code, is_weak=is_weak, first_seen_on=seen_on,
                                      last_seen_on=seen_on, last_seen_team_id=team_id)
    statement = statement.on_conflict_do_nothing(index_elements=["code"]).returning(
        *Person.__table__.c)
    row = db.session.execute(statement).mappings().first()
    if row is None:
        return None
    person = Person(**row)
    make_transient_to_detached(person)
    return db.session.merge(person, load=False)


def touch_person(code, is_weak, seen_on, team_id):
    """Create or get the person for ``code`` (atomic create-or-get) and update its dates; (person,
    is_new).

    Two statements: the SELECT, then the INSERT (new) or the UPDATE of its dates at the flush
    (known)."""
    person = find_person(code)
    if person is None:
        person = _insert_person(code, is_weak, seen_on, team_id)
        if person is not None:
            return person, True
        person = find_person(code)  # inserted meanwhile by another writer
    if person.first_seen_on is None or seen_on < person.first_seen_on:
        person.first_seen_on = seen_on
    if person.last_seen_on is None or seen_on >= person.last_seen_on:
        person.last_seen_on, person.last_seen_team_id = seen_on, team_id
    return person, False
