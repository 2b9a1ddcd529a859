"""Property: whatever the order in which data arrives, every catalogue indicator read through the
dashboard service, the read API and the open-data export equals a naive computation from its written
definition (tests/indicator_reference.py), on SQLite and PostgreSQL.

Random histories (seeded, reproducible): three organisations, persons met by several of them,
contacts synced late into older shifts, deletions and re-entries, corrections (kind, person, time,
sector), shift closes and validations, referral steps in later months, imports of older history (and
the same file again), a retention purge; roll-ups are read (caught up) at random moments in between.
Small-cell protection is switched off (``DISCLOSURE_CONTROL`` off): the figures compared are exact.
"""
import hashlib
import random
import sqlite3
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from indicator_reference import (
    ContactFact,
    Facts,
    Reference,
    ReferralFact,
    ShiftFact,
    month_of,
    shift_month,
)

from outreach.exports.snapshot import write_snapshot
from outreach.extensions import db
from outreach.imports.services import import_contacts
from outreach.indicators import services as ind
from outreach.indicators.catalogue import SEED_FILE
from outreach.indicators.rollups import catch_up, refresh_rollups, rollup_rows
from outreach.maintenance.purge import purge_person_data
from outreach.models import (
    Contact,
    ContactMaterial,
    Organisation,
    Orientation,
    Person,
    Referral,
    RefItem,
    Sector,
    Shift,
    Team,
    User,
)
from outreach.pseudonyms.services import code_from_digest, touch_person
from outreach.security import new_api_token

pytestmark = pytest.mark.slow
PARIS = ZoneInfo("Europe/Paris")
# Paris start times; 18:30 and 19:30 straddle the night rule in summer and winter alike
LOCAL_STARTS = [(8, 0), (13, 30), (18, 30), (19, 0), (19, 30), (22, 45), (0, 30), (4, 30), (5, 0)]
DAYS = [date(2025, 1, 31), date(2025, 2, 27), date(2025, 3, 29), date(2025, 3, 30),
        date(2025, 3, 31),
        date(2025, 4, 30), date(2025, 5, 15), date(2025, 6, 30), date(2025, 7, 1),
        date(2025, 7, 31),
        date(2025, 8, 14), date(2025, 9, 12), date(2025, 9, 30), date(2025, 10, 25),
        date(2025, 10, 26), date(2025, 10, 31), date(2025, 11, 29)]
CUTOFF = date(2025, 7, 1)  # the purge's cut-off: months before it are frozen
MATERIALS = ["kit_base", "naloxone", "preservatifs"]
DESTINATIONS = ["csapa", "scmr", "espace_repos", "urgences_pass", "empp", "droits"]
PROGRAMMES = ["assore", "phase", "espace_repos"]


@pytest.fixture
def app_config():
    return {"DISCLOSURE_CONTROL": "off"}  # protection off: compare exact figures


def _catalogue():
    with open(SEED_FILE, encoding="utf-8") as handle:
        plan = yaml.safe_load(handle)["plan"]
    return [i for axis in plan["axes"] for action in axis["actions"] for i in action["indicators"]]


def _utc(day, hour, minute):
    return datetime(day.year, day.month, day.day, hour, minute,
                    tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def _paris_day(naive_utc):
    return naive_utc.replace(tzinfo=UTC).astimezone(PARIS).date()


class History:
    """Writes a random history through the ORM (the roll-ups' write listener), the import service
    and the purge, and keeps its own record of the facts for the reference."""

    def __init__(self, rng):
        self.rng = rng
        third = Organisation(code="charonne", name="Charonne", is_partner_institution=False)
        db.session.add(third)
        db.session.flush()
        db.session.add(
            Team(organisation_id=third.id, code="charonne_nuit", name="Maraude de nuit Charonne"))
        db.session.flush()
        self.teams = db.session.execute(db.select(Team).order_by(Team.id)).scalars().all()
        self.orgs = {o.code: o for o in db.session.execute(
            db.select(Organisation).filter_by(is_partner_institution=False)).scalars()}
        self.user = db.session.execute(
            db.select(User).filter_by(email="admin@aurore.demo")).scalar_one()
        self.sectors = db.session.execute(
            db.select(Sector.id, Sector.code).order_by(Sector.id)).all()
        self.refs = ({(k, c): i for i, k, c in db.session.execute(
            db.select(RefItem.id, RefItem.kind, RefItem.code))})
        self.persons = [f"P{i}" for i in range(7)]
        # persons whose code a purge deleted: never met again here (see the report)
        self.retired = set()
        self.first_seen = {}
        self.shifts, self.contacts, self.referrals, self.deleted = {}, {}, {}, []
        # a purged file imported again would come back
        self.imports, self.imports_before_purge = [], 0
        self.purged = False
        self.frozen = None

    # --- persons ----------------------------------------------------------------------------------

    @staticmethod
    def digest(person):
        return hashlib.sha256(f"reference|{person}".encode()).hexdigest()

    def _touch(self, person, day, team):
        """As the live form does: the code's person, created or moved (first and last seen)."""
        self.first_seen[person] = min(self.first_seen.get(person, day), day)
        return touch_person(code_from_digest(self.digest(person)), False, day, team.id)

    def _person_choice(self):
        return self.rng.choice([p for p in self.persons if p not in self.retired])

    # --- days -------------------------------------------------------------------------------------

    def _day(self):
        days = [d for d in DAYS if not self.purged or d >= CUTOFF + timedelta(days=2)]
        return self.rng.choice(days)

    def _live(self, sid):
        return not self.purged or self.shifts[sid]["day"] >= CUTOFF + timedelta(days=2)

    # --- operations -------------------------------------------------------------------------------

    def new_shift(self):
        team = self.rng.choice(self.teams)
        day = self._day()
        hour, minute = self.rng.choice(LOCAL_STARTS)
        started = _utc(day, hour, minute)
        minutes = self.rng.choice([60, 95, 180, 240, 300])
        sid = str(uuid.uuid4())
        db.session.add(Shift(id=sid, organisation_id=team.organisation_id, team_id=team.id,
                             opened_by_id=self.user.id, started_at=started, shift_on=day,
                             status="open", staff_count=self.rng.randint(1, 4)))
        self.shifts[sid] = {"org": team.organisation_id, "team": team, "day": day, "hour": hour,
                            "started": started, "minutes": minutes, "ended": None, "status": "open",
                            "validated_at": None, "staff": None}
        db.session.flush()
        self.shifts[sid]["staff"] = db.session.get(Shift, sid).staff_count
        for _ in range(self.rng.randint(0, 3)):
            self.contact(sid)

    def contact(self, sid=None, copy=None):
        """A contact in ``sid`` (a late sync when that shift is older than others), or ``copy``
        re-entered."""
        candidates = [s for s in self.shifts if self._live(s)
                      and not self.shifts[s].get("imported")]
        if sid is None:
            if not candidates:
                return
            sid = self.rng.choice(candidates)
        shift = self.shifts[sid]
        if copy is not None:
            spec = dict(copy)
        else:
            kind = self.rng.choice(["known", "known", "known", "anonymous", "refusal"])
            spec = {"kind": kind, "person": self._person_choice() if kind == "known" else None,
                    "people": self.rng.randint(1, 4) if kind == "anonymous" else 1,
                    "offset": self.rng.randint(0, shift["minutes"]),
                    "sector": self.rng.choice([None] + [s[0] for s in self.sectors[:4]]),
                    "materials": tuple((m, self.rng.randint(1, 3))
                                       for m in self.rng.sample(MATERIALS, 2)
                                       if self.rng.random() < 0.5),
                    "orientations": tuple((d, self.rng.random() < 0.5)
                                          for d in self.rng.sample(DESTINATIONS, 1)
                                          if self.rng.random() < 0.4),
                    "programmes": tuple(p for p in PROGRAMMES if self.rng.random() < 0.2)}
        if spec["person"] in self.retired:
            return
        occurred = shift["started"] + timedelta(minutes=spec["offset"])
        day = _paris_day(occurred)
        team = shift["team"]
        person, first = self._touch(spec["person"], day,
                                    team) if spec["kind"] == "known" else (None, False)
        cid = str(uuid.uuid4())
        contact = Contact(id=cid, shift_id=sid, organisation_id=shift["org"], team_id=team.id,
                          sector_id=spec["sector"], occurred_at=occurred, occurred_on=day,
                          kind=spec["kind"],
                          person=person, is_first_contact=first, people_count=spec["people"],
                          created_by_id=self.user.id)
        contact.materials = [ContactMaterial(material_id=self.refs["material", m], quantity=q)
                             for m, q in spec["materials"]]
        contact.orientations = [
            Orientation(destination_id=self.refs["destination", d], is_accompanied=a)
            for d, a in spec["orientations"]]
        db.session.add(contact)
        record = {**spec, "shift": sid, "day": day, "referrals": []}
        for programme in spec["programmes"]:
            rid = str(uuid.uuid4())
            contact.referrals.append(Referral(id=rid, organisation_id=shift["org"], person=person,
                                              programme_id=self.refs["programme", programme],
                                              status="proposed", proposed_on=day))
            self.referrals[rid] = {"contact": cid, "programme": programme,
                                   "steps": {"proposed": day}, "refusal": None, "exit": None}
            record["referrals"].append(rid)
        self.contacts[cid] = record
        db.session.flush()

    def _pick_contact(self):
        live = [c for c, r in self.contacts.items() if self._live(r["shift"])
                and not r.get("imported")]
        return self.rng.choice(live) if live else None

    def delete(self):
        cid = self._pick_contact()
        if cid is None:
            return
        db.session.delete(db.session.get(Contact, cid))
        record = self.contacts.pop(cid)
        for rid in record["referrals"]:
            self.referrals.pop(rid)
        self.deleted.append(record)
        db.session.flush()

    def reenter(self):
        """A deleted contact typed again (a new id), as a worker does after a mistake."""
        candidates = [r for r in self.deleted if self._live(r["shift"])]
        if candidates:
            record = self.rng.choice(candidates)
            self.contact(record["shift"],
                         copy={k: v for k, v in record.items() if k not in ("referrals",)})

    def correct(self):
        cid = self._pick_contact()
        if cid is None:
            return
        record, contact = self.contacts[cid], db.session.get(Contact, cid)
        shift = self.shifts[record["shift"]]
        what = self.rng.choice(["to_anonymous", "to_known", "time", "sector"])
        if what == "to_anonymous":
            contact.kind, contact.person, contact.is_first_contact = "anonymous", None, False
            contact.people_count = self.rng.randint(1, 3)
            record.update(kind="anonymous", person=None, people=contact.people_count)
        elif what == "to_known":
            person = self._person_choice()
            found, _new = self._touch(person, record["day"], shift["team"])
            contact.kind, contact.person, contact.people_count = "known", found, 1
            record.update(kind="known", person=person, people=1)
        # within the shift; the Paris date may change (and the month, at a month's end)
        elif what == "time":
            record["offset"] = self.rng.randint(0, shift["minutes"])
            contact.occurred_at = shift["started"] + timedelta(minutes=record["offset"])
            contact.occurred_on = record["day"] = _paris_day(contact.occurred_at)
        else:
            contact.sector_id = record["sector"] = self.rng.choice(
                [None] + [s[0] for s in self.sectors[:4]])
        for referral in contact.referrals:
            referral.person = contact.person
        db.session.flush()

    def close_or_validate(self):
        live = [s for s, r in self.shifts.items() if self._live(s) and r["status"] != "validated"]
        if not live:
            return
        sid = self.rng.choice(live)
        shift, row = self.shifts[sid], db.session.get(Shift, sid)
        if shift["ended"] is None:
            shift["ended"] = shift["started"] + timedelta(minutes=shift["minutes"])
            row.ended_at, row.closed_at, row.status, shift["status"] = (
                shift["ended"], shift["ended"], "closed", "closed")
        if self.rng.random() < 0.7:
            shift["validated_at"] = (shift["ended"]
                                     + timedelta(hours=self.rng.choice([5, 30, 47, 49, 80])))
            row.status, row.validated_at, shift["status"] = ("validated", shift["validated_at"],
                                                             "validated")
        db.session.flush()

    def step(self):
        """The next step of a referral, dated some days after the previous one (often in a later
        month)."""
        open_ = [r for r, v in self.referrals.items() if "exited" not in v["steps"]
                 and "refused" not in v["steps"]]
        if not open_:
            return
        rid = self.rng.choice(open_)
        spec, row = self.referrals[rid], db.session.get(Referral, rid)
        last = max(spec["steps"].values())
        day = min(last + timedelta(days=self.rng.randint(0, 45)), date(2025, 12, 20))
        if self.purged:
            day = max(day, CUTOFF + timedelta(days=2))
        status = row.status
        nxt = {"proposed": ["accepted", "refused"], "accepted": ["admitted", "refused"],
               "admitted": ["exited"]}
        step = self.rng.choice(nxt[status])
        spec["steps"][step] = day
        row.status = step
        setattr(row, {"accepted": "accepted_on", "refused": "refused_on", "admitted": "admitted_on",
                      "exited": "exited_on"}[step], day)
        if step == "refused":
            spec["refusal"] = self.rng.choice(["pas_de_place", "hors_criteres"])
            row.refusal_reason_id = self.refs["refusal_reason", spec["refusal"]]
        if step == "exited":
            spec["exit"] = self.rng.choice(["logement_stable", "relais"])
            row.exit_reason_id = self.refs["exit_reason", spec["exit"]]
        db.session.flush()

    def import_history(self):
        """Older history imported (validated 'imported history' shifts, one per team and date),
        noon Paris."""
        org = self.rng.choice(list(self.orgs.values()))
        teams = [t for t in self.teams if t.organisation_id == org.id]
        rows = []
        for line in range(self.rng.randint(1, 4)):
            kind = self.rng.choice(["known", "known", "anonymous", "refusal"])
            person = self._person_choice() if kind == "known" else None
            row = {"date": self._day().isoformat(), "time": "12:00",
                   "team": self.rng.choice(teams).code,
                   "kind": kind,
                   "people_count": str(self.rng.randint(1, 3)) if kind == "anonymous" else "1",
                   "digest": self.digest(person) if person else "",
                   "materials": "kit_base:2" if self.rng.random() < 0.5 else "",
                   "orientation": self.rng.choice(["", "csapa", "scmr"]),
                   "programme": "assore" if self.rng.random() < 0.3 else ""}
            row["accompanied"] = "oui" if row["orientation"] else ""
            rows.append((line + 2, row))
        self._import(org, rows)
        self.imports.append((org, rows))

    def reimport(self):
        """The same file again: nothing is created, nothing changes."""
        if self.imports[self.imports_before_purge:]:
            org, rows = self.rng.choice(self.imports[self.imports_before_purge:])
            assert import_contacts(rows, org, self.user).created == 0

    def _import(self, org, rows):
        report = import_contacts(rows, org, self.user)
        assert not report.errors and report.created == len(rows), report.errors
        now = datetime.now(UTC).replace(tzinfo=None)
        teams = {t.code: t for t in self.teams}
        by_id = {}
        for _line, row in rows:
            day, team = date.fromisoformat(row["date"]), teams[row["team"]]
            sid = ("import", team.id, day)
            noon = datetime(day.year, day.month, day.day, 12)
            self.shifts.setdefault(
                sid, {"org": org.id, "team": team, "day": day, "hour": None, "started": noon,
                      "minutes": 0, "ended": noon, "status": "validated", "validated_at": now,
                      "staff": 1, "imported": True})
            person = (next((p for p in self.persons if row["digest"]
                            and self.digest(p) == row["digest"]), None))
            if person:
                self.first_seen[person] = min(self.first_seen.get(person, day), day)
            cid = f"import-{len(self.contacts)}-{uuid.uuid4()}"
            record = {"kind": row["kind"], "person": person, "people": int(row["people_count"]),
                      "sector": None, "materials": (("kit_base", 2),) if row["materials"] else (),
                      "orientations": ((row["orientation"], True),) if row["orientation"] else (),
                      "shift": sid, "day": day, "referrals": [], "imported": True}
            if row["programme"]:
                rid = f"import-referral-{cid}"
                self.referrals[rid] = {"contact": cid, "programme": "assore",
                                       "steps": {"proposed": day},
                                       "refusal": None, "exit": None, "imported": True}
                record["referrals"].append(rid)
            self.contacts[cid] = record
            by_id[cid] = record
        self._bind_imported_referrals(by_id)

    def _bind_imported_referrals(self, records):
        """Imported referrals take their ids from the import: find them so their steps can
        follow."""
        stored = db.session.execute(
            db.select(Referral.id, Contact.occurred_on, Contact.team_id, Person.code)
            .join(Contact, Contact.id == Referral.contact_id)
            .outerjoin(Person, Person.id == Referral.person_id)).all()
        known = {rid for rid in self.referrals if not rid.startswith("import-referral-")}
        free = [r for r in stored if r[0] not in known]
        for record in records.values():
            for rid in record["referrals"]:
                team = self.shifts[record["shift"]]["team"].id
                code = code_from_digest(self.digest(record["person"])) if record["person"] else None
                match = next(r for r in free if r[1] == record["day"] and r[2] == team
                             and r[3] == code)
                free.remove(match)
                spec = self.referrals.pop(rid)
                self.referrals[match[0]] = spec
                record["referrals"] = [match[0] if x == rid else x for x in record["referrals"]]

    def purge(self):
        """Retention purge at CUTOFF: months before it keep their figures; person-level rows go."""
        catch_up(db.session)
        self.frozen = self.facts()
        purge_person_data(CUTOFF)
        db.session.flush()
        alive = set(db.session.execute(db.select(Contact.id)).scalars())
        for cid in [c for c in self.contacts if not c.startswith("import-") and c not in alive]:
            for rid in self.contacts.pop(cid)["referrals"]:
                self.referrals.pop(rid, None)
        for cid in [c for c, r in self.contacts.items() if c.startswith("import-")
                    and r["day"] < CUTOFF
                    and not any(max(self.referrals[x]["steps"].values()) >= CUTOFF
                                for x in r["referrals"])]:
            for rid in self.contacts.pop(cid)["referrals"]:
                self.referrals.pop(rid, None)
        codes = set(db.session.execute(db.select(Person.code)).scalars())
        self.retired = {p for p in self.persons if code_from_digest(self.digest(p)) not in codes}
        self.deleted = [r for r in self.deleted if self._live(r["shift"])]
        self.purged, self.imports_before_purge = True, len(self.imports)

    OPERATIONS = (("new_shift", 5), ("contact", 6), ("delete", 2), ("reenter", 1), ("correct", 3),
                  ("close_or_validate", 4), ("step", 3), ("import_history", 1), ("reimport", 1))

    def run(self, count):
        names = [n for n, w in self.OPERATIONS for _ in range(w)]
        purge_at = self.rng.choice([None, int(count * 0.7)])
        for i in range(count):
            if i == purge_at:
                self.purge()
            getattr(self, self.rng.choice(names))()
            if self.rng.random() < 0.3:
                db.session.commit()
            if self.rng.random() < 0.15:
                db.session.commit()
                catch_up(db.session)  # a reader came by: later writes must still move the figures
        db.session.commit()

    # --- the facts the reference reads ------------------------------------------------------------

    def facts(self):
        contacts = [
            ContactFact(org=self.shifts[r["shift"]]["org"], team=self.shifts[r["shift"]]["team"].id,
                        sector=r["sector"], day=r["day"], kind=r["kind"], person=r["person"],
                        people=r["people"],
                        validated=self.shifts[r["shift"]]["status"] == "validated",
                        materials=tuple(r["materials"]), orientations=tuple(r["orientations"]))
            for r in self.contacts.values()]
        shifts = [ShiftFact(org=s["org"], team=s["team"].id, day=s["day"],
                            local_hour=12 if s["hour"] is None else s["hour"], staff=s["staff"],
                            minutes=s["minutes"] if s["ended"] is not None else None,
                            validated=s["status"] == "validated",
                            validated_within_48h=s["validated_at"] is not None
                            and s["validated_at"] <= s["ended"] + timedelta(hours=48))
                  for s in self.shifts.values()]
        referrals = []
        for spec in self.referrals.values():
            contact = self.contacts[spec["contact"]]
            shift = self.shifts[contact["shift"]]
            referrals.append(ReferralFact(org=shift["org"], team=shift["team"].id,
                                          validated=shift["status"] == "validated",
                                          programme=spec["programme"],
                                          steps=tuple(spec["steps"].items()),
                                          refusal_reason=spec["refusal"], exit_reason=spec["exit"],
                                          first_seen=self.first_seen.get(contact["person"])
                                          if contact["person"] else None))
        facts = Facts(contacts, shifts, referrals)
        if self.frozen is not None:
            facts.frozen, facts.cutoff = self.frozen, CUTOFF
        return facts


# --- reading every surface ------------------------------------------------------------------------

def _same(got, expected, code, where, tolerance=1e-6):
    if expected is None or got is None:
        assert got == expected, (code, where, got, expected)
    else:
        assert got == pytest.approx(expected, abs=tolerance), (code, where, got, expected)


class Reader:
    def __init__(self, history, client, app, tmp_path):
        self.history, self.client, self.app, self.tmp_path = history, client, app, tmp_path
        self.catalogue = _catalogue()
        self.manager = db.session.execute(
            db.select(User).filter_by(email="manager@plan.demo")).scalar_one()
        self.supervisor = db.session.execute(
            db.select(User).filter_by(email="supervisor@aurore.demo")).scalar_one()
        self.indicators = {i.code: i for i in _plan_indicators()}
        team_orgs = {t.id: t.organisation_id for t in history.teams}
        self.ref = Reference(history.facts(), {c: o.id for c, o in history.orgs.items()}, team_orgs)
        token = new_api_token(self.manager, "reference")
        db.session.commit()
        self.headers = {"Authorization": f"Bearer {token}"}

    def windows(self):
        months = sorted({c.month for c in self.ref.facts.contacts}
                        | {s.month for s in self.ref.facts.shifts})
        first, last = months[0], months[-1]
        rng = self.history.rng
        picked = [(shift_month(first, -1), shift_month(last, 1))]  # starts before the first contact
        for _ in range(2):
            a = rng.choice(months)
            picked.append((a, min(shift_month(a, rng.choice([0, 0, 2, 5])), shift_month(last, 1))))
        return picked

    def median_comparable(self, code, window):
        """Medians read the referrals themselves: months a purge emptied cannot be recomputed."""
        measure = self.indicators[code].numerator
        return not (self.history.purged and measure.startswith("median")
                    and month_of(window[0]) < CUTOFF)

    @staticmethod
    def _ref_filters(filters):
        return {"organisation": filters.get("organisation_id"), "team": filters.get("team_id"),
                "sector": filters.get("sector_id"),
                "provisional": filters.get("include_provisional", False)}

    def check_dashboard(self):
        history = self.history
        aurore = history.orgs["aurore"].id
        team = history.rng.choice(history.teams)
        sector = history.sectors[0][0]
        scopes = [({}, self.manager), ({"organisation_id": aurore}, self.supervisor),
                  ({"organisation_id": history.orgs["charonne"].id}, self.manager),
                  ({"team_id": team.id}, self.manager), ({"sector_id": sector}, self.manager)]
        for window in self.windows():
            period = ind.Period(*window)
            for provisional in (False, True):
                for scope, user in scopes:
                    filters = {**scope, "include_provisional": provisional}
                    board = ind.Dashboard(period, filters, user)
                    for item in self.catalogue:
                        if not self.median_comparable(item["code"], window):
                            continue
                        got = board.raw(self.indicators[item["code"]], period)[0]
                        expected = self.ref.indicator(item, self._ref_filters(filters), window)
                        _same(got, expected, item["code"], ("dashboard", window, filters))
                    # before the first contact
                    if window[0] < min(c.month for c in self.ref.facts.contacts):
                        new, distinct = (board.raw(self.indicators[c], period)[0]
                                         for c in ("new_persons", "distinct_persons"))
                        assert new == distinct, (filters, new, distinct)

    def check_series(self):
        """The 12-month sparklines, where the dashboard draws one."""
        months = sorted({c.month for c in self.ref.facts.contacts})
        end = months[-1]
        period = ind.Period(end, end)
        for scope in ({}, {"organisation_id": self.history.orgs["gaia"].id},
                      {"team_id": self.history.teams[0].id}):
            board = ind.Dashboard(period, scope, self.manager)
            for item in self.catalogue:
                series = board.series(self.indicators[item["code"]])
                for i, got in enumerate(series):
                    month = shift_month(end, i - 11)
                    if got is None or not self.median_comparable(item["code"], (month, month)):
                        continue
                    _same(got, self.ref.indicator(item, self._ref_filters(scope), (month, month)),
                          item["code"], ("series", month, scope))

    def check_breakdowns(self):
        window = self.windows()[0]
        period = ind.Period(*window)
        orgs = {o.name: o.id for o in self.history.orgs.values()}
        for item in self.catalogue:
            if not self.median_comparable(item["code"], window):
                continue
            rows, total = ind.breakdown(self.indicators[item["code"]], period, {}, self.manager,
                                        "organisation")
            for label, value in rows:
                expected = self.ref.indicator(item, {"organisation": orgs[str(label)]}, window)
                _same(value, expected, item["code"], ("by organisation", label))
            _same(total, self.ref.indicator(item, {}, window), item["code"], ("total",))

    def check_api(self):
        for window, provisional in ((self.windows()[0], False), (self.windows()[1], True)):
            last_day = shift_month(window[1], 1) - timedelta(days=1)
            body = self.client.get("/api/v1/indicators", headers=self.headers, query_string={
                "from": window[0].isoformat(), "to": last_day.isoformat(),
                "group_by": "organisation",
                "per_page": 100, "provisional": "1" if provisional else "0"}).get_json()
            assert body["total"] == len(self.catalogue)
            names = {o.name: o.id for o in self.history.orgs.values()}
            by_code = {i["code"]: i for i in self.catalogue}
            for item in body["items"]:
                spec = by_code[item["indicator"]]
                if not self.median_comparable(spec["code"], window):
                    continue
                base = {"provisional": provisional}
                _same(item["value"], self.ref.indicator(spec, base, window), spec["code"],
                      ("api", window), 1e-4)
                for group in item["groups"]:
                    expected = self.ref.indicator(
                        spec, {**base, "organisation": names[group["key"]]}, window)
                    _same(group["value"], expected, spec["code"], ("api", group["key"]), 1e-4)

    def check_open_data(self):
        window = self.windows()[0]
        path = str(self.tmp_path / "donnees.db")
        write_snapshot(path, ind.Period(*window))
        conn = sqlite3.connect(path)
        by_code = {i["code"]: i for i in self.catalogue}
        names = {o.name: o.id for o in self.history.orgs.values()}
        sectors = {label: sid
                   for sid, label in db.session.execute(db.select(Sector.id, Sector.label))}
        tables = [("indicator_by_month", "month", lambda key: ({}, (date.fromisoformat(key),) * 2)),
                  ("indicator_by_organisation", "organisation",
                   lambda key: ({"organisation": names[key]}, window)),
                  ("indicator_by_sector", "sector", lambda key: ({"sector": sectors[key]}, window))]
        for table, column, parse in tables:
            for code, key, value in conn.execute(f"SELECT indicator, {column}, value FROM {table}"):
                filters, where = parse(key)
                if not self.median_comparable(code, where):
                    continue
                _same(value, self.ref.indicator(by_code[code], filters, where), code, (table, key),
                      0.006)
        conn.close()


def _plan_indicators():
    plan = ind.load_plan()
    return [i for axis in plan.axes for action in axis.actions for i in action.indicators]


@pytest.mark.parametrize("seed", range(3))
def test_every_surface_equals_the_definitions_whatever_the_order_of_arrival(
        app, client, tmp_path, seed):
    with app.app_context():
        history = History(random.Random(seed))
        history.run(50)
        reader = Reader(history, client, app, tmp_path)
        reader.check_dashboard()
        reader.check_series()
        reader.check_breakdowns()
        reader.check_api()
        reader.check_open_data()
        kept = rollup_rows(db.session)  # what the writes kept up to date equals a full rebuild
        refresh_rollups(db.session)
        assert rollup_rows(db.session) == kept
