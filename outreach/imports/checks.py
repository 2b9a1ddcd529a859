"""Check every row of an import before anything is written; each problem names its line and column.

Each column has a parser ``text -> (value, [messages])``; rows are checked column by column and
each distinct cell text is parsed once, so a file of a million rows with a few hundred distinct
dates and codes is checked at dictionary speed.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter

from flask_babel import gettext as _

from .. import contract
from ..errors import ValidationError

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
    today: date = field(default_factory=contract.local_today)


OK = ()
FIRST, THIRD = itemgetter(0), itemgetter(2)


def _split(text):
    return [p.strip() for p in text.split("|") if p.strip()]


def parse_date(text, lookups):
    text = text[:10]
    for parse in (date.fromisoformat, _french_date):
        try:
            day = parse(text)
        except ValueError:
            continue
        if not date(2000, 1, 1) <= day <= lookups.today:
            return None, [_("date hors limites (entre 2000 et aujourd'hui)")]
        return day, OK
    return None, [_("date invalide « %(value)s » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", value=text)]


def _french_date(text):
    return datetime.strptime(text, "%d/%m/%Y").date()


def parse_time(text, _lookups):
    if not text:
        return (0, 0), OK
    match = TIME.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return (0, 0), [_("heure invalide « %(value)s » (attendu HH:MM)", value=text)]
    return (int(match.group(1)), int(match.group(2))), OK


def code_parser(known_of, required=False):
    """A parser for one code among ``known_of(lookups)``."""
    def parse(text, lookups):
        value = text.lower()
        if not value:
            return None, ([_("valeur obligatoire")] if required else OK)
        if value not in known_of(lookups):
            return None, [_("code « %(code)s » inconnu", code=value)]
        return value, OK
    return parse


def codes_parser(kind):
    """A parser for "a|b" lists of codes of a reference list."""
    def parse(text, lookups):
        known, found, errors = lookups.refs[kind], set(), []
        for part in _split(text.lower()):
            if part in known:
                found.add(part)
            else:
                errors.append(_("code « %(code)s » inconnu", code=part))
        return sorted(found), errors
    return parse


def _refused(text, message):
    return _("« %(value)s » : %(message)s", value=text[:40], message=message)


def parse_kind(text, _lookups):
    """A contract kind, or its French name (connu, anonyme, refus)."""
    value = text.lower()
    try:
        return contract.check_kind(KINDS.get(value, value)), OK
    except ValidationError as exc:
        return None, [_refused(value, exc.errors["kind"])]


def choice_parser(name):
    """A parser for ``sex`` or ``age_band``: one of the contract's codes, or nothing."""
    def parse(text, _lookups):
        value = text.lower()
        try:
            return contract.check_choice(name, value), OK
        except ValidationError as exc:
            return None, [exc.errors[name]]
    return parse


def parse_count(text, _lookups):
    """The contract's people count (1 when empty); whether the kind allows it is checked with the
    row."""
    text = text or "1"
    try:
        return contract.parse_whole(text, "people_count", contract.check_people_count), OK
    except ValidationError as exc:
        return 1, [_refused(text, exc.errors["people_count"])]


def parse_materials(text, lookups):
    """``code:quantity|...`` (quantity 1 when left out), each item's total within the contract's
    bounds."""
    found, errors, known = {}, [], lookups.refs["material"]
    for part in _split(text.lower()):
        code, _sep, qty = part.partition(":")
        code, qty = code.strip(), (qty.strip() or "1")
        if code not in known:
            errors.append(_("matériel « %(code)s » inconnu", code=code))
            continue
        try:
            found[code] = contract.check_quantity(found.get(code, 0) + contract.parse_whole(
                qty, "materials", contract.check_quantity))
        except ValidationError as exc:
            errors.append(_refused(part, exc.errors["materials"]))
    return sorted((code, qty) for code, qty in found.items() if qty), errors


def parse_yes_no(text, _lookups):
    value = text.lower()
    if value not in YES | NO:
        return False, [_("valeur « %(value)s » invalide (oui ou non)", value=value)]
    return value in YES, OK


def parse_digest(text, _lookups):
    value = text.lower()
    if value and not DIGEST.match(value):
        return None, [_("empreinte invalide (64 caractères hexadécimaux attendus)")]
    return value or None, OK


PARSERS = {
    "date": parse_date, "time": parse_time,
    "team": code_parser(lambda lk: lk.teams, required=True),
    "sector": code_parser(lambda lk: lk.sectors), "kind": parse_kind, "people_count": parse_count,
    "sex": choice_parser("sex"), "age_band": choice_parser("age_band"),
    "living_situation": code_parser(lambda lk: lk.refs["living_situation"]),
    "products": codes_parser("product"), "needs": codes_parser("need"),
    "materials": parse_materials,
    "orientation": codes_parser("destination"), "accompanied": parse_yes_no,
    "programme": codes_parser("programme"), "digest": parse_digest,
}


def _joined(values):
    return ",".join(values or ())


CANON = {  # parsed value -> canonical text (codes, not ids): the parts of a row's content key
    "date": lambda v: v.isoformat(), "time": lambda v: "{:02d}:{:02d}".format(*v),
    "people_count": str, "materials": lambda v: ",".join(f"{c}:{q}" for c, q in v),
    "accompanied": lambda v: "1" if v else "0",
    "products": _joined, "needs": _joined, "orientation": _joined, "programme": _joined,
}


def _canon(column, value):
    convert = CANON.get(column)
    if convert is not None:
        return convert(value)
    return value or ""


class Parsed:
    """Checked rows held column by column: ``values[column][i]`` and ``canon[column][i]`` belong
    to row i."""

    def __init__(self, lines, values, canon):
        self.lines, self.values, self.canon = lines, values, canon

    def __len__(self):
        return len(self.lines)

    def content_keys(self):
        """Each row's content key: its canonical texts joined in column order (the base of its
        id)."""
        return ["|".join(parts) for parts in zip(*(self.canon[c] for c in PARSERS))]

    def keep(self, indices):
        """The rows at ``indices`` only."""
        def pick(column):
            return list(map(column.__getitem__, indices))
        return Parsed(pick(self.lines), {c: pick(v) for c, v in self.values.items()},
                      {c: pick(v) for c, v in self.canon.items()})


class Checker:
    """Checks rows against one organisation's lookups column by column, parsing each distinct
    cell once."""

    def __init__(self, lookups):
        self.lookups = lookups
        self.cache = {column: {} for column in PARSERS}

    def _parse(self, column, text):
        value, messages = PARSERS[column](text.strip(), self.lookups)
        return value, messages, "" if messages else _canon(column, value)

    def check_all(self, rows):
        """(Parsed of the valid rows, [RowError] in line then column order) for ``rows`` [(line,
        {column: text})].

        Each column is read, parsed (once per distinct text) and split with C-level ``map``
        calls."""
        lines = [line for line, _values in rows]
        columns = _columns([values for _line, values in rows])
        values, canon, bad = {}, {}, {}
        for column in PARSERS:
            texts = columns[column]
            cache, distinct = self.cache[column], set(texts)
            for text in distinct.difference(cache):
                cache[text] = self._parse(column, text or "")
            results = list(map(cache.__getitem__, texts))
            values[column] = list(map(FIRST, results))
            canon[column] = list(map(THIRD, results))
            failing = {text for text in distinct if cache[text][1]}
            for i in (i for i, text in enumerate(texts) if text in failing) if failing else ():
                bad.setdefault(i, []).extend(RowError(lines[i], column, m)
                                             for m in cache[texts[i]][1])
            if column == "digest":
                digest_texts = texts
        for i, column, message in _coherence(values, digest_texts):
            bad.setdefault(i, []).append(RowError(lines[i], column, message))
        errors = [e for i in sorted(bad) for e in bad[i]]
        parsed = Parsed(lines, values, canon)
        if bad:
            parsed = parsed.keep([i for i in range(len(lines)) if i not in bad])
        return parsed, errors


def _columns(cells):
    """{column: texts of every row}: one C-level ``map`` per column when each row has every
    column (a file made from the template; twice as fast as transposing row tuples), else ``get``
    with "" for what a row lacks."""
    try:
        return {column: list(map(itemgetter(column), cells)) for column in PARSERS}
    except KeyError:
        return {column: [cell.get(column, "") for cell in cells] for column in PARSERS}


def _coherence(values, digest_texts):
    """Rules across columns: the contact contract (a known person has a digest and counts 1, an
    anonymous passage or a refusal has no digest), and accompanied needs a place."""
    rows = zip(values["kind"], values["digest"], values["people_count"], digest_texts)
    for i, (kind, digest, count, text) in enumerate(rows):
        if kind is not None:  # an unknown kind is reported on its own column
            # an invalid one has its own error
            has_digest = digest is not None or bool((text or "").strip())
            for column, message in contract.combination_errors(kind, has_digest, count,
                                                               "digest").items():
                yield i, column, message
    if any(values["accompanied"]):
        for i, (accompanied,
                orientation) in enumerate(zip(values["accompanied"], values["orientation"])):
            if accompanied and not orientation:
                yield i, "accompanied", _("accompagnement sans orientation")
