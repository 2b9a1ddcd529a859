"""Import contacts in bulk: check every row, then write with Core ``executemany`` in the caller's transaction.

Ids are deterministic (uuid5 of the organisation and the row's content, plus its rank
among identical rows), so importing the same file again creates nothing new.
Imported contacts go into one "imported history" shift per team and date, stored
as *validated*: the records were already checked on paper or in the old
spreadsheet, and validated data is what the dashboard counts by default (a closed
shift would instead flood the supervisors' review board with years of history).
"""
import hashlib
import hmac
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import Date, DateTime, bindparam, insert, select, update

from .. import audit
from ..extensions import db
from ..models import (
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    RefItem,
    Sector,
    Shift,
    Team,
    contact_needs,
    contact_products,
    utcnow,
)
from .checks import Checker, Lookups, content_key

NAMESPACE = uuid.UUID("6f1d7c2e-9a43-5b8e-b1c4-0d2a7e5f3c91")
CHUNK = 5000
REF_KINDS = ("living_situation", "product", "need", "material", "destination", "programme")


@dataclass
class ImportReport:
    total: int = 0
    valid: int = 0
    created: int = 0
    already: int = 0
    errors: list = field(default_factory=list)


def load_lookups(organisation):
    teams = dict(db.session.execute(select(Team.code, Team.id).where(Team.organisation_id == organisation.id)).all())
    sectors = dict(db.session.execute(select(Sector.code, Sector.id)).all())
    refs = {kind: {} for kind in REF_KINDS}
    for kind, code, ident in db.session.execute(select(RefItem.kind, RefItem.code, RefItem.id)):
        if kind in refs:
            refs[kind][code] = ident
    return Lookups(teams=teams, sectors=sectors, refs=refs)


def check_rows(rows, lookups):
    """([parsed rows], [RowError]) for every row: nothing is written."""
    parsed, errors, checker = [], [], Checker(lookups)
    for line, values in rows:
        row, problems = checker.check(line, values)
        errors.extend(problems)
        if row is not None:
            parsed.append(row)
    return parsed, errors


def import_contacts(rows, organisation, user, partial=False, source=""):
    """Check then import ``rows`` ([(line, {column: text})]); does not commit. Returns an ImportReport."""
    lookups = load_lookups(organisation)
    parsed, errors = check_rows(rows, lookups)
    report = ImportReport(total=len(rows), valid=len(parsed), errors=errors)
    if errors and not partial:
        return report
    writer = _Writer(organisation, user, lookups)
    report.created = writer.write(parsed)
    report.already = len(parsed) - report.created
    _refresh(writer.months)
    audit.record("import.contacts", actor=user, target=("organisations", organisation.id),
                 organisation_id=organisation.id,
                 details={"source": source, "rows": len(rows), "created": report.created,
                          "already": report.already, "rejected": len(rows) - len(parsed), "partial": partial})
    return report


def _refresh(months):
    """Bring the indicators' roll-ups up to date for the months touched."""
    try:
        from ..indicators.rollups import refresh_rollups
    except ImportError:  # indicators not installed
        return
    if months:
        refresh_rollups(db.session, months=months)


def code_function():
    """Stage-2 code of a stage-1 digest: the pseudonyms service when present, the same HMAC otherwise."""
    try:
        from ..pseudonyms.services import code_from_digest
    except ImportError:
        key = current_app.config["PSEUDONYM_KEY"].encode()
        return lambda digest: hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()
    return code_from_digest


def _uuid5(name):
    """str(uuid.uuid5(NAMESPACE, name)), without building a UUID object."""
    digest = bytearray(hashlib.sha1(NAMESPACE.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _chunks(items, size=CHUNK):
    items = list(items)
    for at in range(0, len(items), size):
        yield items[at:at + size]


def existing_ids(column, ids):
    found = set()
    for part in _chunks(ids):
        found.update(db.session.execute(select(column).where(column.in_(part))).scalars())
    return found


class _Writer:
    """Turns checked rows into bulk inserts (shifts, persons, contacts and their details)."""

    def __init__(self, organisation, user, lookups):
        self.org, self.user, self.lookups = organisation, user, lookups
        self.conn = db.session.connection()
        self.months = set()
        self.now = utcnow()

    def write(self, parsed):
        rows = self._new_rows(parsed)
        if not rows:
            return 0
        self._shifts(rows)
        persons = self._persons(rows)
        contacts = [self._contact(r, persons) for r in rows]
        self._insert(Contact.__table__, contacts, order="id")
        self._details(rows, persons)
        self.months = {r["date"].replace(day=1) for r in rows}
        return len(rows)

    def _new_rows(self, parsed):
        """Rows whose contact is not stored yet. A contact's shift id is derived from its team and date,
        so only rows whose shift already exists can already be stored: only those ids are looked up."""
        seen, shift_ids, prefix = Counter(), {}, f"{self.org.code}|"
        for row in parsed:
            key = content_key(row)
            seen[key] += 1
            row["id"] = _uuid5(prefix + key + f"|{seen[key]}")
            hour, minute = row["time"]
            day = row["date"]
            row["at"] = datetime(day.year, day.month, day.day, hour, minute)
            group = (row["team"], day)
            if group not in shift_ids:
                shift_ids[group] = _uuid5(f"{prefix}shift|{group[0]}|{group[1]}")
            row["shift_id"] = shift_ids[group]
        self.existing_shifts = existing_ids(Shift.id, set(shift_ids.values()))
        already = existing_ids(Contact.id, [r["id"] for r in parsed if r["shift_id"] in self.existing_shifts])
        return sorted((r for r in parsed if r["id"] not in already), key=lambda r: r["at"])

    def _insert(self, table, rows, order=None):
        """Core executemany; on SQLite the statement is compiled once and values go straight to the driver."""
        if not rows:
            return
        if order:
            rows.sort(key=lambda r: r[order])
        if self.conn.dialect.name != "sqlite":
            for part in _chunks(rows, 20000):
                self.conn.execute(insert(table), part)
            return
        columns = list(rows[0])
        names, marks = ", ".join(f'"{c}"' for c in columns), ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # names come from the schema
        self.conn.exec_driver_sql(sql, _sqlite_tuples(table, columns, rows))

    # --- shifts -----------------------------------------------------------------

    def _shifts(self, rows):
        groups = defaultdict(list)
        for row in rows:
            groups[row["shift_id"]].append(row)
        missing = set(groups) - self.existing_shifts
        self._insert(Shift.__table__, [self._shift(groups[s]) for s in sorted(missing)])

    def _shift(self, rows):
        first, last = rows[0], rows[-1]
        return {"id": first["shift_id"], "organisation_id": self.org.id, "team_id": self.lookups.teams[first["team"]],
                "opened_by_id": self.user.id, "started_at": first["at"], "ended_at": last["at"],
                "shift_on": first["date"], "status": "validated", "staff_count": 1, "closed_at": self.now,
                "validated_at": self.now, "validated_by_id": self.user.id, "created_at": self.now,
                "updated_at": self.now, "version": 1, "unapproached_women": 0, "unapproached_men": 0,
                "unapproached_other": 0, "used_material_collected": 0}

    # --- persons ----------------------------------------------------------------

    def _persons(self, rows):
        """{code: person id}; new persons inserted, last seen moved forward for the others."""
        known = [r for r in rows if r["digest"]]
        codes, to_code = {}, code_function()
        for row in known:
            digest = row["digest"]
            row["code"] = codes.get(digest) or codes.setdefault(digest, to_code(digest))
        spans = {}
        for row in known:  # rows are sorted by time: the last one wins
            first = spans.get(row["code"], (row["date"], None, None))[0]
            spans[row["code"]] = (first, row["date"], self.lookups.teams[row["team"]])
        ids = self._person_ids(spans)
        new = {code for code in spans if code not in ids}
        self._insert(Person.__table__, [{"code": c, "is_weak": False, "first_seen_on": spans[c][0],
                                         "last_seen_on": spans[c][1], "last_seen_team_id": spans[c][2]}
                                        for c in sorted(new)])
        ids.update(self._person_ids({c: spans[c] for c in new}))
        self._move_last_seen(spans, ids, new)
        self._mark_first(known, new)
        return ids

    def _person_ids(self, codes):
        ids = {}
        for part in _chunks(codes):
            ids.update(db.session.execute(select(Person.code, Person.id).where(Person.code.in_(part))).all())
        return ids

    def _move_last_seen(self, spans, ids, new):
        table = Person.__table__
        forward = (update(table).where(table.c.id == bindparam("pid"), (table.c.last_seen_on.is_(None))
                                       | (table.c.last_seen_on < bindparam("last_on")))
                   .values(last_seen_on=bindparam("last_on"), last_seen_team_id=bindparam("team")))
        back = (update(table).where(table.c.id == bindparam("pid"), (table.c.first_seen_on.is_(None))
                                    | (table.c.first_seen_on > bindparam("first_on")))
                .values(first_seen_on=bindparam("first_on")))
        old = [c for c in spans if c not in new]
        if old:
            self.conn.execute(forward, [{"pid": ids[c], "last_on": spans[c][1], "team": spans[c][2]} for c in old])
            self.conn.execute(back, [{"pid": ids[c], "first_on": spans[c][0]} for c in old])

    @staticmethod
    def _mark_first(known, new):
        done = set()
        for row in known:
            row["is_first"] = row["code"] in new and row["code"] not in done
            done.add(row["code"])

    # --- contacts and details ---------------------------------------------------

    def _contact(self, row, persons):
        lk = self.lookups
        return {"id": row["id"], "shift_id": row["shift_id"], "organisation_id": self.org.id,
                "team_id": lk.teams[row["team"]], "sector_id": lk.sectors.get(row["sector"]),
                "occurred_at": row["at"], "occurred_on": row["date"], "kind": row["kind"],
                "person_id": persons.get(row.get("code")), "is_first_contact": row.get("is_first", False),
                "people_count": row["people_count"], "sex": row["sex"], "age_band": row["age_band"],
                "living_situation_id": lk.refs["living_situation"].get(row["living_situation"]),
                "created_by_id": self.user.id, "created_at": self.now, "updated_at": self.now}

    def _details(self, rows, persons):
        refs = self.lookups.refs
        products, needs, materials, orientations, referrals = [], [], [], [], []
        for row in rows:
            cid = row["id"]
            products += [{"contact_id": cid, "product_id": refs["product"][c]} for c in row["products"]]
            needs += [{"contact_id": cid, "need_id": refs["need"][c]} for c in row["needs"]]
            materials += [{"contact_id": cid, "material_id": refs["material"][c], "quantity": q}
                          for c, q in row["materials"]]
            orientations += [{"contact_id": cid, "destination_id": refs["destination"][c],
                              "is_accompanied": row["accompanied"]} for c in row["orientation"]]
            referrals += [self._referral(row, c, persons) for c in row["programme"]]
        for table, data in ((contact_products, products), (contact_needs, needs),
                            (ContactMaterial.__table__, materials), (Orientation.__table__, orientations),
                            (Referral.__table__, referrals)):
            self._insert(table, data, order="contact_id")

    def _referral(self, row, programme, persons):
        return {"id": _uuid5(f"{row['id']}|referral|{programme}"), "contact_id": row["id"],
                "organisation_id": self.org.id, "person_id": persons.get(row.get("code")),
                "programme_id": self.lookups.refs["programme"][programme], "status": "proposed",
                "proposed_on": row["date"], "updated_at": self.now}


def _sqlite_tuples(table, columns, rows):
    """Rows as tuples, dates and datetimes in SQLAlchemy's SQLite storage formats (each value formatted once)."""
    dated = [(i, fmt, {}) for i, fmt in enumerate(_sqlite_format(table.c[c].type) for c in columns) if fmt]
    if not dated:
        return [tuple(r.values()) for r in rows]
    out = []
    for row in rows:
        values = list(row.values())
        for i, fmt, cache in dated:
            value = values[i]
            if value is not None:
                text = cache.get(value)
                values[i] = text if text is not None else cache.setdefault(value, value.strftime(fmt))
        out.append(tuple(values))
    return out


def _sqlite_format(type_):
    if isinstance(type_, DateTime):
        return "%Y-%m-%d %H:%M:%S.%f"
    if isinstance(type_, Date):
        return "%Y-%m-%d"
    return None


def default_importer(organisation):
    """The user recorded as author of a command-line import: a supervisor or admin of the organisation."""
    from ..models import User
    query = (select(User).where(User.organisation_id == organisation.id, User.role.in_(("admin", "supervisor")))
             .order_by(User.role, User.id))
    return db.session.execute(query).scalars().first()
