"""A realistic synthetic history for demos and benchmarks, written with bulk Core inserts.

``build_history(n, seed)``: n contacts over 5 years by 30 teams (6 synthetic
organisations) in 40 sectors, about 0.15 x n distinct persons (arriving over time,
met again for months, sometimes by other organisations), with harm-reduction
material, care orientations and shelter referrals with their dated lifecycle.
Shifts older than a week are validated. Roll-ups are rebuilt at the end.
"""
import hashlib
import random
import time
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update

from .. import contract
from ..database import reset_sequences
from ..extensions import db
from ..models import (
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
    team_sectors,
)
from ..pseudonyms.services import codes_from_digests
from ..reference.defaults import NO_PLACE_REFUSAL, STABLE_HOUSING_EXIT
from ..security import hash_password
from .rollups import refresh_rollups

ORGS, TEAMS_PER_ORG, SECTORS, YEARS = 6, 5, 40, 5
CHUNK = 20000
MATERIAL_WEIGHTS = {"kit_base": 50, "pipe": 10, "embouts": 12, "filtres": 8, "baume": 6,
                    "collation": 20,
                    "preservatifs": 6, "naloxone": 2, "steribox": 4, "seringues": 4,
                    "kit_hygiene": 5}
PROGRAMME_WEIGHTS = {"assore": 40, "siao_115": 25, "phase": 10, "lhss_lam": 8, "espace_repos": 12,
                     "logement_accompagne": 5}


def build_history(n, seed=1, today=None):
    """Insert the history and refresh roll-ups; returns a one-line summary."""
    started = time.perf_counter()
    rng = random.Random(seed)
    today = today or contract.local_today()
    world = _world(rng)
    conn = db.session.connection()
    counts = _History(conn, rng, world, n, today).run()
    reset_sequences(conn)  # persons were written with explicit ids
    db.session.commit()
    inserted = time.perf_counter() - started
    refresh_rollups(db.session)
    db.session.commit()
    total = time.perf_counter() - started
    return (f"synthetic history: {counts} in {inserted:.1f} s, roll-ups in {total - inserted:.1f} "
            "s "
            f"(total {total:.1f} s)")


# --- the demo teams' year ---------------------------------------------------------

DEMO_CONTACTS_PER_DAY = 80  # about 29,000 contacts a year over the three demo teams


def build_demo_history(today=None, seed=1, per_day=DEMO_CONTACTS_PER_DAY):
    """A year of history for the demo teams (``seed-demo --history``): the last 12 complete
    months, the current month up to yesterday. Idempotent: a re-run only adds the days after the
    teams' last shift."""
    today = today or contract.local_today()
    world = _demo_world()
    if world is None:
        return "demo history: demo teams missing (run seed-demo first)"
    last = db.session.execute(select(func.max(Shift.shift_on)).where(
        Shift.team_id.in_([team_id for _, team_id, _ in world["teams"]]))).scalar()
    start = last + timedelta(days=1) if last else date(today.year - 1, today.month, 1)
    end = today - timedelta(days=1)
    if start > end:
        return "demo history: already up to date"
    n = per_day * ((end - start).days + 1)
    counts = _DemoHistory(db.session.connection(), random.Random(seed), world, n, today, start,
                          end).run()
    db.session.commit()
    refresh_rollups(db.session, months=_months(start, end))
    db.session.commit()
    return f"demo history {start.isoformat()} to {end.isoformat()}: {counts}"


def _months(start, end):
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _demo_world():
    from ..seed import DEMO_USERS, ORGANISATIONS
    codes = [team[0] for _, _, partner, teams in ORGANISATIONS if not partner for team in teams]
    teams = db.session.execute(
        select(Team).where(Team.code.in_(codes)).order_by(Team.code)).scalars().all()
    workers = {u.organisation_id: u.id for u in db.session.execute(select(User).where(
        User.email.in_([e for e, role, *_ in DEMO_USERS if role == "worker"]))).scalars()}
    if not teams or any(t.organisation_id not in workers for t in teams):
        return None
    return {"teams": [(t.organisation_id, t.id, [s.id for s in t.sectors]) for t in teams],
            "users": workers, "refs": _refs()}


# --- organisations, teams, sectors, users -----------------------------------------

def _world(rng):
    sectors = _sectors()
    teams, users = [], {}
    for o in range(1, ORGS + 1):
        org = _get(Organisation, code=f"synth_{o:02d}",
                   defaults={"name": f"Association synthétique {o}"})
        user = _get(User, email=f"synth{o}@synthetic.invalid", defaults={
            "role": "worker", "organisation_id": org.id,
            "password_hash": hash_password(uuid.uuid4().hex)})
        users[org.id] = user.id
        for t in range(1, TEAMS_PER_ORG + 1):
            team = _get(Team, organisation_id=org.id, code=f"synth_{o:02d}_{t}",
                        defaults={"name": f"Équipe {o}.{t}"})
            covered = rng.sample(sectors, 6)
            if not team.sectors:
                db.session.execute(insert(team_sectors),
                                   [{"team_id": team.id, "sector_id": s} for s in covered])
            teams.append((org.id, team.id, covered))
    db.session.flush()
    return {"teams": teams, "users": users, "refs": _refs()}


def _get(model, defaults=None, **keys):
    obj = db.session.execute(select(model).filter_by(**keys)).scalar_one_or_none()
    if obj is None:
        obj = model(**keys, **(defaults or {}))
        db.session.add(obj)
        db.session.flush()
    return obj


def _sectors():
    existing = db.session.execute(select(Sector.id).order_by(Sector.position)).scalars().all()
    for i in range(len(existing), SECTORS):
        _get(Sector, code=f"synth_sector_{i + 1}",
             defaults={"label": f"Secteur synthétique {i + 1}",
                        "position": 100 + i})
    return db.session.execute(
        select(Sector.id).order_by(Sector.position).limit(SECTORS)).scalars().all()


def _refs():
    rows = db.session.execute(select(RefItem.kind, RefItem.code, RefItem.id)).all()
    refs = {}
    for kind, code, ident in rows:
        refs.setdefault(kind, {})[code] = ident
    return refs


# --- the history ------------------------------------------------------------------

class _History:
    def __init__(self, conn, rng, world, n, today, start=None, end=None):
        self.conn, self.rng, self.world, self.n, self.today = conn, rng, world, n, today
        self.start = start or date(today.year - YEARS, today.month, 1)
        self.days = ((end or today) - self.start).days + 1
        self.persons_total = max(20, int(n * 0.15))
        self.person_base = (db.session.execute(select(func.max(Person.id))).scalar() or 0) + 1
        self.persons = {}  # index -> [first_on, last_on, last_team]
        self.written = set()
        self.buffers = {
            name: [] for name in ("shifts", "contacts", "materials", "orientations", "referrals")}
        self.counts = dict.fromkeys(self.buffers, 0)
        refs = world["refs"]
        self.materials = [(refs["material"][c], w) for c, w in MATERIAL_WEIGHTS.items()
                          if c in refs["material"]]
        self.programmes = [(refs["programme"][c], w) for c, w in PROGRAMME_WEIGHTS.items()
                           if c in refs["programme"]]
        self.destinations = list(refs["destination"].values())
        self.living = list(refs["living_situation"].values())
        self.no_place = refs["refusal_reason"][NO_PLACE_REFUSAL]
        self.other_refusals = [v for k, v in refs["refusal_reason"].items()
                               if k != NO_PLACE_REFUSAL]
        self.stable = refs["exit_reason"][STABLE_HOUSING_EXIT]
        self.other_exits = [v for k, v in refs["exit_reason"].items() if k != STABLE_HOUSING_EXIT]

    def run(self):
        teams = self.world["teams"]
        chance = min(0.9, self.n / (len(teams) * self.days * 15))
        per_shift = self.n / (len(teams) * self.days * chance)
        made = 0
        for day_index in range(self.days):
            day = self.start + timedelta(days=day_index)
            for org_id, team_id, sectors in teams:
                if self.rng.random() > chance or made >= self.n:
                    continue
                count = min(self.n - made,
                            max(0, int(self.rng.gauss(per_shift, per_shift / 3) + 0.5)))
                made += self._shift(day, day_index, org_id, team_id, sectors, count)
        while made < self.n:  # rounding leftovers go to shifts of the last weeks
            day_index = self.days - 1 - self.rng.randint(8, 40)
            org_id, team_id, sectors = self.rng.choice(teams)
            made += self._shift(self.start + timedelta(days=day_index), day_index, org_id, team_id,
                                sectors, min(self.n - made, int(per_shift) + 1))
        self._flush(force=True)
        self._insert_persons()
        return ", ".join(f"{v} {k}"
                         for k, v in self.counts.items()) + f", {len(self.persons)} persons"

    def _shift(self, day, day_index, org_id, team_id, sectors, count):
        rng = self.rng
        night = rng.random() < 0.6
        started = datetime(day.year, day.month, day.day,
                           rng.choice((18, 19, 20)) if night else rng.choice((9, 10, 13)),
                           rng.choice((0, 15, 30)))
        ended = started + timedelta(minutes=rng.randint(150, 300))
        age = (self.today - day).days
        status = "validated" if age > 7 else ("closed" if age > 0 else "open")
        shift_id = str(uuid.uuid4())
        self.buffers["shifts"].append({
            "id": shift_id, "organisation_id": org_id, "team_id": team_id,
            "opened_by_id": self.world["users"][org_id],
            "started_at": started, "ended_at": ended if status != "open" else None, "shift_on": day,
            "status": status, "staff_count": rng.randint(2, 4),
            "closed_at": ended if status != "open" else None,
            "validated_at": (ended + timedelta(hours=rng.randint(2, 96))
                             if status == "validated" else None),
            "created_at": started, "updated_at": started, "version": 1,
            "unapproached_women": 0, "unapproached_men": 0, "unapproached_other": 0,
            "used_material_collected": 0})
        for _ in range(count):
            self._contact(shift_id, day, day_index, org_id, team_id, sectors, started)
        self._flush()
        return count

    def _pick_person(self, day_index):
        """Persons arrive over time and are met again for a few months."""
        arrived = int(self.persons_total * (day_index + 1) / self.days)
        back = int(self.rng.expovariate(1 / (self.persons_total / 20)))
        return max(0, arrived - 1 - back)

    def _contact(self, shift_id, day, day_index, org_id, team_id, sectors, started):
        rng = self.rng
        roll = rng.random()
        kind = "known" if roll < 0.75 else ("anonymous" if roll < 0.95 else "refusal")
        person_id, first = None, False
        if kind == "known":
            index = self._pick_person(day_index)
            seen = self.persons.get(index)
            first = seen is None
            self.persons[index] = [day if first else seen[0], day, team_id]
            person_id = self.person_base + index
        contact_id = str(uuid.uuid4())
        occurred = started + timedelta(minutes=rng.randint(0, 140))
        self.buffers["contacts"].append({
            "id": contact_id, "shift_id": shift_id, "organisation_id": org_id, "team_id": team_id,
            "sector_id": rng.choice(sectors), "occurred_at": occurred, "occurred_on": day,
            "kind": kind, "person_id": person_id, "is_first_contact": first,
            "people_count": rng.randint(1, 4) if kind == "anonymous" else 1,
            "sex": rng.choice("mmmfx"),
            "age_band": rng.choice(("18_25", "26_35", "36_45", "46_55", "unknown")),
            "living_situation_id": rng.choice(self.living),
            "created_by_id": self.world["users"][org_id],
            "created_at": occurred, "updated_at": occurred})
        if kind != "refusal":
            self._extras(contact_id, org_id, person_id, day)

    def _extras(self, contact_id, org_id, person_id, day):
        rng = self.rng
        if rng.random() < 0.6:
            ids = {x for x in rng.choices([m for m, _ in self.materials],
                                          [w for _, w in self.materials], k=rng.randint(1, 3))}
            self.buffers["materials"].extend({"contact_id": contact_id, "material_id": m,
                                              "quantity": rng.randint(1, 3)} for m in ids)
        if rng.random() < 0.08:
            self.buffers["orientations"].append(
                {"contact_id": contact_id, "destination_id": rng.choice(
                self.destinations), "is_accompanied": rng.random() < 0.3})
        if person_id is not None and rng.random() < 0.025:
            self.buffers["referrals"].append(self._referral(contact_id, org_id, person_id, day))

    def _referral(self, contact_id, org_id, person_id, day):
        rng = self.rng
        row = {"id": str(uuid.uuid4()), "contact_id": contact_id, "organisation_id": org_id,
               "person_id": person_id,
               "person_first_seen_on": self.persons[person_id - self.person_base][0],
               "programme_id": rng.choices([p for p, _ in self.programmes],
                                           [w for _, w in self.programmes])[0],
               "status": "proposed", "proposed_on": day, "accepted_on": None, "refused_on": None,
               "refusal_reason_id": None, "admitted_on": None, "exited_on": None,
               "exit_reason_id": None, "updated_at": datetime(day.year, day.month, day.day)}
        step = day + timedelta(days=rng.randint(0, 10))
        if step > self.today:
            return row
        if rng.random() < 0.35:
            reason = self.no_place if rng.random() < 0.55 else rng.choice(self.other_refusals)
            return {**row, "status": "refused", "refused_on": step, "refusal_reason_id": reason}
        row.update(status="accepted", accepted_on=step)
        step += timedelta(days=rng.randint(1, 60))
        if step > self.today or rng.random() > 0.8:
            return row
        row.update(status="admitted", admitted_on=step)
        step += timedelta(days=rng.randint(30, 400))
        if step > self.today or rng.random() > 0.5:
            return row
        reason = self.stable if rng.random() < 0.25 else rng.choice(self.other_exits)
        row.update(status="exited", exited_on=step, exit_reason_id=reason)
        return row

    def _insert_persons(self):
        """Last seen (date, team) of every person, once the whole history is written."""
        stmt = (update(Person.__table__).where(Person.id == bindparam("pid"))
                .values(last_seen_on=bindparam("last_on"), last_seen_team_id=bindparam("team")))
        rows = [{"pid": self.person_base + i, "last_on": v[1], "team": v[2]}
                for i, v in self.persons.items()]
        for at in range(0, len(rows), CHUNK * 5):
            self.conn.execute(stmt, rows[at:at + CHUNK * 5])

    TABLES = (("shifts", Shift), ("contacts", Contact), ("materials", ContactMaterial),
              ("orientations", Orientation), ("referrals", Referral))

    def _flush(self, force=False):
        if not force and len(self.buffers["contacts"]) < CHUNK:
            return
        self._write_persons()
        for name, model in self.TABLES:
            rows = self.buffers[name]
            if rows:
                self.conn.execute(insert(model.__table__), rows)
                self.counts[name] += len(rows)
                self.buffers[name] = []

    def _write_persons(self):
        """Insert the persons first met since the last chunk (before the contacts pointing at
        them)."""
        indexes = [i for i in self.persons if i not in self.written]
        digests = {i: hashlib.sha256(f"synthetic-{self.person_base}-{i}".encode()).hexdigest()
                   for i in indexes}
        # stage 2 as for a real person (stage 1 skipped: no inputs)
        codes = codes_from_digests(digests.values())
        rows = [self._person_row(i, codes[digests[i]]) for i in indexes]
        if rows:
            self.conn.execute(insert(Person.__table__), rows)
            self.written.update(r["id"] - self.person_base for r in rows)

    def _person_row(self, index, code):
        first_on, last_on, team = self.persons[index]
        return {"id": self.person_base + index, "code": code, "is_weak": False,
                "first_seen_on": first_on, "last_seen_on": last_on, "last_seen_team_id": team}


class _DemoHistory(_History):
    """Every day of the period gets its shifts (the generic history may stop early when its count
    is reached): the last week is closed and waits for a supervisor, the weeks before are
    validated."""

    def run(self):
        teams = self.world["teams"]
        per_shift = self.n / (len(teams) * self.days * 0.85)
        for day_index in range(self.days):
            for org_id, team_id, sectors in teams:
                if self.rng.random() < 0.15:
                    continue
                count = max(1, int(self.rng.gauss(per_shift, per_shift / 3) + 0.5))
                self._shift(self.start + timedelta(days=day_index), day_index, org_id, team_id,
                            sectors, count)
        self._flush(force=True)
        self._insert_persons()
        return ", ".join(f"{v} {k}"
                         for k, v in self.counts.items()) + f", {len(self.persons)} persons"
