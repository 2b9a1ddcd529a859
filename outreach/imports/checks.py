"""Check every row of an import before anything is written; each problem names its line and column."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from ..models import AGE_BANDS, SEXES

KINDS = {"known": "known", "connu": "known", "anonymous": "anonymous", "anonyme": "anonymous",
         "refusal": "refusal", "refus": "refusal"}
YES = {"oui", "o", "yes", "y", "1", "true", "vrai", "x"}
NO = {"non", "n", "no", "0", "false", "faux", ""}
DIGEST = re.compile(r"^[0-9a-f]{64}$")
TIME = re.compile(r"^(\d{1,2})[:h](\d{2})(?::\d{2})?$")


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class Lookups:
    """Codes of the organisation's teams, the sectors and every reference list."""
    teams: dict
    sectors: dict
    refs: dict  # kind -> {code: id}
    today: date = field(default_factory=date.today)


class _Row:
    """Checks one row; collects errors instead of stopping at the first."""

    def __init__(self, line, values, lookups):
        self.line, self.values, self.lookups, self.errors = line, values, lookups, []

    def text(self, column):
        return (self.values.get(column) or "").strip()

    def fail(self, column, message):
        self.errors.append(RowError(self.line, column, message))

    def code(self, column, known, required=False):
        value = self.text(column).lower()
        if not value:
            if required:
                self.fail(column, _("valeur obligatoire"))
            return None
        if value not in known:
            self.fail(column, _("code « %(code)s » inconnu", code=value))
            return None
        return value

    def codes(self, column, known):
        found = []
        for part in _split(self.text(column)):
            if part.lower() not in known:
                self.fail(column, _("code « %(code)s » inconnu", code=part))
            else:
                found.append(part.lower())
        return sorted(set(found))


def _split(text):
    return [p.strip() for p in text.split("|") if p.strip()]


def check_row(line, values, lookups):
    """(parsed row or None, [RowError])."""
    row = _Row(line, values, lookups)
    day = _day(row)
    parsed = {"line": line, "day": day, "time": _time(row),
              "team": row.code("team", lookups.teams, required=True),
              "sector": row.code("sector", lookups.sectors),
              "kind": _kind(row), "people_count": _count(row),
              "sex": row.code("sex", SEXES), "age_band": row.code("age_band", AGE_BANDS),
              "living_situation": row.code("living_situation", lookups.refs["living_situation"]),
              "products": row.codes("products", lookups.refs["product"]),
              "needs": row.codes("needs", lookups.refs["need"]),
              "materials": _materials(row), "orientation": row.codes("orientation", lookups.refs["destination"]),
              "accompanied": _yes_no(row, "accompanied"),
              "programme": row.codes("programme", lookups.refs["programme"]), "digest": _digest(row)}
    _coherence(row, parsed)
    return (None if row.errors else parsed), row.errors


def _day(row):
    text = row.text("date")[:10]
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not date(2000, 1, 1) <= day <= row.lookups.today:
            row.fail("date", _("date hors limites (entre 2000 et aujourd'hui)"))
            return None
        return day
    row.fail("date", _("date invalide « %(value)s » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", value=row.text("date")))
    return None


def _time(row):
    text = row.text("time")
    match = TIME.match(text) if text else None
    if not text:
        return (0, 0)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        row.fail("time", _("heure invalide « %(value)s » (attendu HH:MM)", value=text))
        return (0, 0)
    return (int(match.group(1)), int(match.group(2)))


def _kind(row):
    value = row.text("kind").lower()
    if value not in KINDS:
        row.fail("kind", _("type « %(value)s » inconnu (known, anonymous ou refusal)", value=value))
        return None
    return KINDS[value]


def _count(row):
    text = row.text("people_count") or "1"
    if not text.isdigit() or not 1 <= int(text) <= 500:
        row.fail("people_count", _("nombre de personnes invalide « %(value)s » (entier de 1 à 500)", value=text))
        return 1
    return int(text)


def _materials(row):
    found = {}
    known = row.lookups.refs["material"]
    for part in _split(row.text("materials")):
        code, _sep, qty = part.partition(":")
        code, qty = code.strip().lower(), (qty.strip() or "1")
        if code not in known:
            row.fail("materials", _("matériel « %(code)s » inconnu", code=code))
        elif not qty.isdigit() or not 1 <= int(qty) <= 10000:
            row.fail("materials", _("quantité invalide pour « %(code)s »", code=code))
        else:
            found[code] = found.get(code, 0) + int(qty)
    return sorted(found.items())


def _yes_no(row, column):
    value = row.text(column).lower()
    if value not in YES | NO:
        row.fail(column, _("valeur « %(value)s » invalide (oui ou non)", value=value))
    return value in YES


def _digest(row):
    value = row.text("digest").lower()
    if value and not DIGEST.match(value):
        row.fail("digest", _("empreinte invalide (64 caractères hexadécimaux attendus)"))
        return None
    return value or None


def _coherence(row, parsed):
    if parsed["kind"] == "known" and not parsed["digest"] and not row.text("digest"):
        row.fail("digest", _("empreinte obligatoire pour un contact connu (sinon type anonymous)"))
    if parsed["kind"] in ("anonymous", "refusal") and parsed["digest"]:
        row.fail("digest", _("pas d'empreinte pour un contact anonyme ou un refus"))
    if parsed["accompanied"] and not parsed["orientation"]:
        row.fail("accompanied", _("accompagnement sans orientation"))


def content_key(parsed):
    """A canonical text of the row's content (codes, not ids): the base of its deterministic id."""
    parts = [parsed["day"].isoformat(), "%02d:%02d" % parsed["time"], parsed["team"], parsed["sector"] or "",
             parsed["kind"], str(parsed["people_count"]), parsed["sex"] or "", parsed["age_band"] or "",
             parsed["living_situation"] or "", ",".join(parsed["products"]), ",".join(parsed["needs"]),
             ",".join(f"{c}:{q}" for c, q in parsed["materials"]), ",".join(parsed["orientation"]),
             "1" if parsed["accompanied"] else "0", ",".join(parsed["programme"]), parsed["digest"] or ""]
    return "|".join(parts)
