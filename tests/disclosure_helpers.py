"""A differencing attacker for the disclosure-control tests (issue 17).

``make_history`` imports a random history (validated contacts) for four teams: Aurore's two large
ones, and two small organisations (Gaïa, and Charonne created here), over three months and three
sectors. ``World.run`` sends one manager query through a real surface (read API, drill-down page and
CSV, dashboard CSV and XLSX, funnel CSV, open-data SQLite file) and returns its cells: (code, atom
set, shown text). A cell's atom set is what a manager knows of it from its definition: for contacts,
the (team, sector, month) triples it counts; for distinct persons, (team, months) pairs (persons are
met by one team here, so teams add up). ``solve`` is the attacker: from the published texts and the
method the API states, it bounds every cell, then narrows bounds by subtraction (a cell minus a cell
inside it) and addition (two disjoint cells whose union was published), until nothing moves. A
hidden cell is recovered when its bounds close on one value from 1 to threshold - 1 for a single
organisation.
"""
import csv
import hashlib
import html
import io
import itertools
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from export_helpers import import_rows
from openpyxl import load_workbook

from outreach.contract import local_today
from outreach.exports.snapshot import write_snapshot
from outreach.extensions import db
from outreach.indicators import services as ind
from outreach.indicators.rollups import add_months, month_start
from outreach.models import Organisation, Sector, Team, User
from outreach.security import hash_password, new_api_token

SECTORS = ("stalingrad", "forceval", "chapelle")
CODES = ("contacts", "distinct_persons")
TEAMS = {"aurore_nord": "aurore", "aurore_est": "aurore", "gaia_mobile": "gaia",
         "charonne_rue": "charonne"}
BIG = ("aurore_nord", "aurore_est")
INFINITY = 10 ** 9


@dataclass
class World:
    months: list
    contacts: dict = field(default_factory=dict)  # (team, sector, month) -> count
    persons: dict = field(default_factory=dict)  # team -> month -> {person}
    known: int = 0  # contacts with a code
    ids: dict = field(default_factory=dict)  # ("team"|"organisation"|"sector", code) -> id
    labels: dict = field(default_factory=dict)  # shown label -> ("team"|..., code or month)
    sectors: tuple = ()
    token: str = ""
    snapshot: list = None

    # --- truth ------------------------------------------------------------------
    def truth(self, code, atoms):
        if code == "contacts":
            return sum(self.contacts.get(a, 0) for a in atoms)
        return sum(len(set().union(*(self.persons.get(t, {}).get(m, set()) for m in months)))
                   for t, months in atoms)

    def atoms(self, code, teams, sectors, months):
        if code == "contacts":
            return frozenset((t, s, m) for t in teams for s in sectors for m in months)
        if set(sectors) != set(self.sectors):
            return None  # persons are not broken down by sector
        return frozenset((t, frozenset(months)) for t in teams)

    def organisation(self, atoms):
        """The one organisation a set of atoms belongs to, or None."""
        found = {TEAMS[a[0]] for a in atoms}
        return found.pop() if len(found) == 1 else None

    # --- queries ------------------------------------------------------------------
    def scope(self, spec):
        teams, sectors = list(TEAMS), list(self.sectors)
        kind, value = spec.get("filter") or (None, None)
        if kind == "organisation":
            teams = [t for t in teams if TEAMS[t] == value]
        elif kind == "team":
            teams = [value]
        elif kind == "sector":
            sectors = [value]
        return teams, sectors, spec["months"]

    def group(self, by, key, teams, sectors, months):
        if by == "organisation":
            return [t for t in teams if TEAMS[t] == key], sectors, months
        if by == "team":
            return [t for t in teams if t == key], sectors, months
        if by == "sector":
            return teams, [s for s in sectors if s == key], months
        return teams, sectors, [m for m in months if m == key]

    def run(self, client, spec):
        return SURFACES[spec["surface"]](self, client, spec)

    def cells(self, code, spec, total, groups=()):
        """[(code, atoms, shown)] of a total and of its groups [(label, shown)]."""
        teams, sectors, months = self.scope(spec)
        out = [(code, self.atoms(code, teams, sectors, months), total)]
        for label, shown in groups:
            kind, key = self.labels[label]
            out.append(
                (code, self.atoms(code, *self.group(kind, key, teams, sectors, months)), shown))
        return [c for c in out if c[1] and c[2] not in (None, "", "—")]


# --- the surfaces ------------------------------------------------------------------

def _page_args(world, spec):
    args = {"period": "custom", "from": spec["months"][0].isoformat()[:7],
            "to": spec["months"][-1].isoformat()[:7]}
    if spec.get("filter"):
        args[spec["filter"][0]] = spec["filter"][1]  # by code, as in the API
    return args


def _api(world, client, spec):
    last = add_months(spec["months"][-1], 1) - timedelta(days=1)
    args = {"from": spec["months"][0].isoformat(), "to": last.isoformat(),
            "indicator": spec["code"], "group_by": spec["by"]}
    if spec.get("filter"):
        args[spec["filter"][0]] = spec["filter"][1]
    body = client.get("/api/v1/indicators", query_string=args,
                      headers={"Authorization": f"Bearer {world.token}"}).get_json()
    item = body["items"][0]
    return world.cells(spec["code"], spec, item["shown"],
                       [(g["key"], g["shown"]) for g in item.get("groups", [])])


def _csv_rows(response):
    text = response.data.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _drill_csv(world, client, spec):
    args = {**_page_args(world, spec), "by": spec["by"]}
    rows = _csv_rows(client.get(f"/export/indicateurs/{spec['code']}.csv", query_string=args))[1:]
    return world.cells(spec["code"], spec, rows[-1][1], [(r[0], r[1]) for r in rows[:-1]])


ROW = re.compile(r"<tr><th scope=\"row\">(.*?)</th><td class=\"num\">(.*?)</td></tr>")
TOTAL = re.compile(
    r"<tfoot><tr><th scope=\"row\">.*?</th><td class=\"num\">(.*?)</td></tr></tfoot>")


def _drill_page(world, client, spec):
    args = {**_page_args(world, spec), "by": spec["by"]}
    page = client.get(f"/indicateurs/{spec['code']}", query_string=args).get_data(as_text=True)
    table = page[page.index('id="breakdown"'):]
    rows = table[:table.index("<tfoot>")]  # the groups; the period's total is read apart
    groups = [(html.unescape(a), html.unescape(b)) for a, b in ROW.findall(rows)]
    return world.cells(spec["code"], spec, html.unescape(TOTAL.search(table).group(1)), groups)


def _dashboard_csv(world, client, spec):
    rows = _csv_rows(client.get("/export/indicateurs.csv", query_string=_page_args(world, spec)))
    found = {r[1]: r[4] for r in rows[1:]}
    return [c for code in CODES for c in world.cells(code, spec, found.get(code))]


def _dashboard_xlsx(world, client, spec):
    book = (load_workbook(io.BytesIO(
        client.get("/export/indicateurs.xlsx", query_string=_page_args(world, spec)).data)))
    found = {r[0]: _xlsx_value(r) for s in book.worksheets[1:]
             for r in s.iter_rows(min_row=2, values_only=True)}
    return [c for code in CODES for c in world.cells(code, spec, None if found.get(code) is None
                                                      else str(found[code]))]


def _xlsx_value(row):
    """A dashboard sheet's value: a number, or the "< 5" its row's flag column says for an empty
    (withheld) cell."""
    withheld = re.search(r"Valeur : ([^;]*)", row[8] or "") if len(row) > 8 else None
    return withheld.group(1) if withheld else row[3]


def _funnel_csv(world, client, spec):
    rows = _csv_rows(client.get("/export/parcours.csv", query_string=_page_args(world, spec)))
    contacts = next(r[3] for r in rows if r[2] == "Rencontres")
    return world.cells("contacts", spec, contacts)


def _open_data(world, client, spec):
    return list(world.snapshot)


SURFACES = {"api": _api, "drill_csv": _drill_csv, "drill_page": _drill_page,
            "dashboard_csv": _dashboard_csv,
            "dashboard_xlsx": _dashboard_xlsx, "funnel_csv": _funnel_csv, "open_data": _open_data}
GROUPED = ("api", "drill_csv", "drill_page")


def random_spec(world, rng):
    surface = rng.choice(list(SURFACES))
    start = rng.randrange(3)
    spec = {"surface": surface, "code": rng.choice(CODES),
            "by": rng.choice(("organisation", "team", "sector", "month")),
            "months": world.months[start:rng.randrange(start, 3) + 1]}
    choice = rng.choice(["none", "none", "organisation", "team", "sector"])
    if choice == "organisation":
        spec["filter"] = ("organisation", rng.choice(("aurore", "gaia", "charonne")))
    elif choice == "team":
        spec["filter"] = ("team", rng.choice(list(TEAMS)))
    elif choice == "sector":
        spec["filter"] = ("sector", rng.choice(SECTORS))
    return spec


# --- the history ---------------------------------------------------------------------

def make_history(app, seed, rng):
    today = local_today()
    world = World(months=[add_months(month_start(today), -k) for k in (5, 4, 3)])
    with app.app_context(), app.test_request_context():
        charonne = Organisation(code="charonne", name="Charonne", is_partner_institution=False)
        db.session.add(charonne)
        db.session.flush()
        db.session.add(Team(code="charonne_rue", name="Charonne rue", organisation_id=charonne.id))
        db.session.add(
            User(email="supervisor@charonne.demo", role="supervisor", organisation=charonne,
                 password_hash=hash_password("charonne-password")))
        db.session.flush()
        rows = {org: [] for org in ("aurore", "gaia", "charonne")}
        for team, org in TEAMS.items():
            for month in world.months:
                for sector in SECTORS:
                    count = (rng.choice((0, 2, 5, 7, 11)) if team in BIG
                             else rng.choice((0, 0, 1, 1, 2, 3, 4)))
                    for _ in range(count):
                        rows[org].append(_contact(world, rng, seed, team, sector, month))
        for org, items in rows.items():
            import_rows(org, items)
        db.session.commit()
        _name(world)
        manager = db.session.execute(
            db.select(User).filter_by(email="manager@plan.demo")).scalar_one()
        world.token = new_api_token(manager, "attacker")
        db.session.commit()
    return world


def _contact(world, rng, seed, team, sector, month):
    known = rng.random() < 0.7
    person = rng.randrange(12 if team in BIG else 3)
    day = month + timedelta(days=rng.randrange(27))
    digest = hashlib.sha256(f"{seed}|{team}|{person}".encode()).hexdigest() if known else ""
    world.contacts[(team, sector, month)] = world.contacts.get((team, sector, month), 0) + 1
    if known:
        world.known += 1
        world.persons.setdefault(team, {}).setdefault(month, set()).add(person)
    return {"date": day.isoformat(), "time": "21:00", "team": team, "sector": sector,
            "kind": "known" if known else "anonymous", "people_count": "1", "sex": "m",
            "age_band": "26_35",
            "living_situation": "rue", "products": "crack", "needs": "", "materials": "",
            "orientation": "", "accompanied": "", "programme": "", "digest": digest}


def _name(world):
    """Ids and shown labels of teams, organisations, sectors and months (French, as the surfaces
    show them)."""
    for team in db.session.execute(db.select(Team)).scalars():
        world.ids[("team", team.code)] = team.id
        world.labels[team.name] = ("team", team.code)
    for org in db.session.execute(db.select(Organisation)).scalars():
        world.ids[("organisation", org.code)] = org.id
        world.labels[org.name] = ("organisation", org.code)
    sectors = db.session.execute(db.select(Sector)).scalars().all()
    world.sectors = tuple(s.code for s in sectors)
    for sector in sectors:
        world.ids[("sector", sector.code)] = sector.id
        world.labels[sector.display_label] = ("sector", sector.code)
    for month in world.months:
        world.labels[ind.month_label(month)] = ("month", month)


def load_snapshot(app, world, path):
    """The open-data file's cells for the three months (all organisations, by month,
    organisation, sector)."""
    period = ind.Period(world.months[0], world.months[-1])
    with app.app_context(), app.test_request_context():
        write_snapshot(str(path), period)
    conn = sqlite3.connect(str(path))
    everything = {"surface": "open_data", "months": world.months}
    cells = []
    for code in CODES:
        for month, shown in conn.execute("SELECT month, shown FROM indicator_by_month WHERE "
                                         "indicator = ?", (code,)):
            spec = {**everything, "months": [date.fromisoformat(month)]}
            cells += world.cells(code, spec, shown)
        for table, column in (("indicator_by_organisation", "organisation"),
                              ("indicator_by_sector", "sector")):
            rows = conn.execute(f"SELECT {column}, shown FROM {table} WHERE indicator = ?",
                                (code,)).fetchall()
            cells += world.cells(code, everything, None, rows)
    conn.close()
    world.snapshot = cells


# --- the attacker ----------------------------------------------------------------------

@dataclass(frozen=True)
class Method:
    """What the API states was done to the numbers; the attacker knows it (but not the secret
    key)."""
    threshold: int
    noise: int
    perturbed: bool

    @classmethod
    def stated(cls, body):
        rules = body["suppression"]
        return cls(rules["threshold"], rules.get("max_noise", 0), "max_noise" in rules)

    def bounds(self, shown):
        """The true values a published text allows."""
        text = str(shown).replace("\u202f", "").replace(" ", "")
        if text.startswith("<"):
            return (0,
                    self.threshold - 1 + self.noise) if self.perturbed else (1, self.threshold - 1)
        if text == "s":
            return (0, INFINITY)
        value = int(float(text.replace(",", ".")))
        if self.perturbed:
            return (max(self.threshold, value - self.noise), value + self.noise)
        return (value, value)


def solve(cells, method, limit=600):
    """{(code, atoms): (low, high)} from the published cells, narrowed by subtraction and
    addition."""
    index = {}
    for _code, atoms, _shown in cells:
        for atom in atoms:
            index.setdefault(atom, len(index))
    known = {}
    for code, atoms, shown in cells:
        _narrow(known, (code, sum(1 << index[a] for a in atoms)), method.bounds(shown))
    for _round in range(6):
        if not _round_of(known, limit):
            break
    atoms = list(index)
    return {(code, frozenset(atoms[i] for i in range(mask.bit_length()) if mask >> i & 1)): bounds
            for (code, mask), bounds in known.items()}


def _round_of(known, limit):
    changed = False
    for x, y in itertools.permutations(list(known), 2):
        if x[0] != y[0] or len(known) > limit:
            continue
        if y[1] != x[1] and y[1] & ~x[1] == 0:
            changed |= _difference(known, x, y)
        elif not (x[1] & y[1]) and (x[0], x[1] | y[1]) in known:
            changed |= _union(known, x, y, (x[0], x[1] | y[1]))
    return changed


def _difference(known, x, y):
    z = (x[0], x[1] & ~y[1])
    (lx, hx), (ly, hy) = known[x], known[y]
    changed = _narrow(known, z, (lx - hy, hx - ly))
    lz, hz = known[z]
    return changed | _narrow(known, x, (ly + lz, hy + hz)) | _narrow(known, y, (lx - hz, hx - lz))


def _union(known, x, y, u):
    (lx, hx), (ly, hy), (lu, hu) = known[x], known[y], known[u]
    return (_narrow(known, u, (lx + ly, hx + hy)) | _narrow(known, x, (lu - hy, hu - ly))
            | _narrow(known, y, (lu - hx, hu - lx)))


def _narrow(known, key, bounds):
    old = known.get(key, (0, INFINITY))
    new = (max(old[0], bounds[0], 0), min(old[1], bounds[1]))
    if new == old:
        return False
    known[key] = new
    return True


def recovered(world, known, method):
    """Cells of one organisation whose bounds closed on a value from 1 to threshold - 1."""
    return [(code, sorted(atoms, key=str), low) for (code, atoms), (low, high) in known.items()
            if low == high and 1 <= low < method.threshold and world.organisation(atoms)]


def unsound(world, known):
    """Cells whose true value falls outside the attacker's bounds: the stated method was not
    followed."""
    return [(code, low, high, world.truth(code, atoms))
            for (code, atoms), (low, high) in known.items()
            if not low <= world.truth(code, atoms) <= high]
