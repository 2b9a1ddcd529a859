"""A second, deliberately naive implementation of the catalogue's measures, written from the
definitions in outreach/indicators/catalogue.yaml and nothing else: plain Python over the test's own
record of what happened (no SQL, no roll-up). tests/test_indicators_reference.py compares every
surface with it.

The record holds "facts" as the definitions speak of them:

- a contact: organisation, team, sector, Paris date, kind, person, people, whether its shift is
  validated, material given, care orientations;
- a shift: organisation, team, Paris start date and hour, staff, minutes, state, validation delay;
- a referral: organisation and team of its contact, whether that contact's shift is validated,
  programme, the date of each step, refusal and exit reasons, the person's first recorded contact.

After a purge, months before the cut-off keep the figures they had (their facts are taken as they
were at the purge); later months follow the current facts.
"""
import statistics
from dataclasses import dataclass, field, replace
from datetime import date

STEP_MEASURES = {"referrals_proposed": "proposed", "referrals_accepted": "accepted",
                 "referrals_refused": "refused", "admissions": "admitted", "exits": "exited"}
NIGHT = (19, 5)  # from 19:00 to 04:59, Paris time


def month_of(day):
    return date(day.year, day.month, 1)


def shift_month(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ContactFact:
    org: int
    team: int
    sector: int | None
    day: date
    kind: str
    person: str | None
    people: int
    validated: bool
    materials: tuple = ()  # (code, quantity)
    orientations: tuple = ()  # (destination code, accompanied)

    @property
    def month(self):
        return month_of(self.day)


@dataclass(frozen=True)
class ShiftFact:
    org: int
    team: int
    day: date
    local_hour: int
    staff: int
    minutes: int | None  # None while not ended
    validated: bool
    validated_within_48h: bool

    @property
    def month(self):
        return month_of(self.day)


@dataclass(frozen=True)
class ReferralFact:
    org: int
    team: int
    validated: bool
    programme: str
    steps: tuple  # (step, date)
    refusal_reason: str | None = None
    exit_reason: str | None = None
    first_seen: date | None = None

    def on(self, step):
        return dict(self.steps).get(step)


@dataclass
class Facts:
    contacts: list = field(default_factory=list)
    shifts: list = field(default_factory=list)
    referrals: list = field(default_factory=list)
    frozen: "Facts | None" = None  # the facts as they were at the purge
    cutoff: date | None = None  # first month not frozen
    whole_referrals: list | None = None  # the referrals as they are (medians read them whole)

    def merged(self):
        """Facts as the figures must see them: frozen months from the purge, later ones from now."""
        if self.frozen is None:
            return self
        old, cut = self.frozen, self.cutoff
        keep_old = [c for c in old.contacts if c.month < cut] + [c for c in self.contacts
                                                                 if c.month >= cut]
        shifts = [s for s in old.shifts if s.month < cut] + [s for s in self.shifts
                                                             if s.month >= cut]
        referrals = _split_steps(old.referrals, lambda d: month_of(d) < cut) + _split_steps(
            self.referrals, lambda d: month_of(d) >= cut)
        return Facts(keep_old, shifts, referrals, whole_referrals=self.referrals)


def _split_steps(referrals, keep):
    """Referrals reduced to their steps dated in the kept months (a step counts in its own
    month)."""
    out = []
    for r in referrals:
        steps = tuple((s, d) for s, d in r.steps if keep(d))
        if steps:
            out.append(replace(r, steps=steps))
    return out


# --- the measures, from their definitions ---------------------------------------------------------

class Reference:
    def __init__(self, facts, org_codes, team_orgs):
        self.facts = facts.merged()
        self.org_codes = org_codes  # {code: organisation id}
        self.team_orgs = team_orgs  # {team id: organisation id}

    def indicator(self, indicator, filters, window):
        """(value) of a catalogue indicator: numerator / denominator x factor, or numerator x
        factor."""
        num = self.measure(indicator["numerator"],
                           {**filters, **indicator.get("numerator_filters", {})}, window)
        if not indicator.get("denominator"):
            return None if num is None else num * indicator.get("factor", 1)
        den = self.measure(indicator["denominator"],
                           {**filters, **indicator.get("denominator_filters", {})}, window)
        if num is None or den is None:
            return None
        return None if den == 0 else num / den * indicator.get("factor", 1)

    def measure(self, code, filters, window):
        sector_measures = {"contacts", "known_contacts", "anonymous_contacts", "anonymous_passages",
                           "refusal_contacts", "contacts_with_code"}
        if filters.get("sector") is not None and code not in sector_measures:
            return None  # not broken down by sector
        return getattr(self, "m_" + code)(filters, window)

    # scopes
    def _in_scope(self, fact, filters, with_sector=False):
        if filters.get("organisation") is not None and fact.org != filters["organisation"]:
            return False
        if filters.get("team") is not None and fact.team != filters["team"]:
            return False
        if with_sector and filters.get("sector") is not None and fact.sector != filters["sector"]:
            return False
        return filters.get("provisional") or fact.validated

    def _contacts(self, filters, window, with_sector=True):
        a, b = window
        return [c for c in self.facts.contacts
                if a <= c.month <= b and self._in_scope(c, filters, with_sector)]

    # contacts
    def m_contacts(self, f, w):
        return len(self._contacts(f, w))

    def m_known_contacts(self, f, w):
        return sum(1 for c in self._contacts(f, w) if c.kind == "known")

    def m_anonymous_contacts(self, f, w):
        return sum(1 for c in self._contacts(f, w) if c.kind == "anonymous")

    def m_anonymous_passages(self, f, w):
        return sum(c.people for c in self._contacts(f, w) if c.kind == "anonymous")

    def m_refusal_contacts(self, f, w):
        return sum(1 for c in self._contacts(f, w) if c.kind == "refusal")

    def m_contacts_with_code(self, f, w):
        return sum(1 for c in self._contacts(f, w) if c.person is not None)

    # persons
    def _persons(self, f, w):
        return {c.person for c in self._contacts(f, w, with_sector=False) if c.person is not None}

    def m_distinct_persons(self, f, w):
        return len(self._persons(f, w))

    def first_month(self, person, provisional):
        """The month of the person's first contact in time, all organisations together."""
        return min(c.month for c in self.facts.contacts
                   if c.person == person and (provisional or c.validated))

    def m_new_persons(self, f, w):
        return sum(1 for p in self._persons(f, w)
                   if self.first_month(p, f.get("provisional")) >= w[0])

    def m_file_active(self, f, w):
        return len(self._persons(f, (shift_month(w[1], -11), w[1])))

    def m_persons_multi_org(self, f, w):
        everyone = self._contacts({"provisional": f.get("provisional")}, w, with_sector=False)
        orgs = {}
        for c in everyone:
            if c.person is not None:
                orgs.setdefault(c.person, set()).add(c.org)
        count = 0
        for person in self._persons(f, w):
            own = {c.org for c in self._contacts(f, w, with_sector=False) if c.person == person}
            if orgs[person] - own or len(own) > 1:
                count += 1
        return count

    # material and orientations
    def m_material(self, f, w):
        return sum(q for c in self._contacts(f, w, with_sector=False) for code, q in c.materials
                   if f.get("material") in (None, code))

    def m_orientations(self, f, w):
        return sum(1 for c in self._contacts(f, w, with_sector=False)
                   for dest, _acc in c.orientations
                   if f.get("destination") in (None, dest))

    def m_orientations_accompanied(self, f, w):
        return sum(1 for c in self._contacts(f, w, with_sector=False)
                   for dest, acc in c.orientations
                   if acc and f.get("destination") in (None, dest))

    # referrals: each step counts in the month of its own date, following its shift's state
    def _steps(self, f, w, step, condition=lambda r: True):
        a, b = w
        return sum(1 for r in self.facts.referrals if self._in_scope(r, f) and condition(r)
                   and f.get("programme") in (None, r.programme)
                   and r.on(step) is not None and a <= month_of(r.on(step)) <= b)

    def m_referrals_proposed(self, f, w):
        return self._steps(f, w, "proposed")

    def m_referrals_accepted(self, f, w):
        return self._steps(f, w, "accepted")

    def m_referrals_refused(self, f, w):
        return self._steps(f, w, "refused")

    def m_refusals_no_place(self, f, w):
        return self._steps(f, w, "refused", lambda r: r.refusal_reason == "pas_de_place")

    def m_admissions(self, f, w):
        return self._steps(f, w, "admitted")

    def m_exits(self, f, w):
        return self._steps(f, w, "exited")

    def m_exits_stable(self, f, w):
        return self._steps(f, w, "exited", lambda r: r.exit_reason == "logement_stable")

    def _median(self, f, w, start):
        a, b = w
        referrals = (self.facts.referrals if self.facts.whole_referrals is None
                     else self.facts.whole_referrals)
        days = [(r.on("admitted") - start(r)).days for r in referrals
                if self._in_scope(r, f) and f.get("programme") in (None, r.programme)
                and r.on("admitted") is not None and a <= month_of(r.on("admitted")) <= b
                and start(r) is not None]
        return statistics.median(days) if days else None

    def m_median_days_to_admission(self, f, w):
        return self._median(f, w, lambda r: r.first_seen)

    def m_median_days_waiting(self, f, w):
        return self._median(f, w, lambda r: r.on("proposed"))

    # shifts
    def _shifts(self, f, w):
        a, b = w
        return [s for s in self.facts.shifts if a <= s.month <= b and self._in_scope(s, f)]

    def m_shifts(self, f, w):
        return len(self._shifts(f, w))

    def m_night_shifts(self, f, w):
        return sum(1 for s in self._shifts(f, w) if s.local_hour >= NIGHT[0]
                   or s.local_hour < NIGHT[1])

    def m_staff_hours(self, f, w):
        return sum(s.staff * s.minutes for s in self._shifts(f, w) if s.minutes is not None) / 60

    def m_shifts_validated_48h(self, f, w):
        return sum(1 for s in self._shifts(f, w) if s.validated_within_48h)

    # site observations: the random histories record no site visit (tests/test_sites.py checks these
    # measures on visits it writes), so over them every site figure is zero by definition
    def m_site_used_material(self, f, w):
        return sum(o.used_material for o in getattr(self.facts, "site_observations", ()))

    def m_site_people_seen(self, f, w):
        return sum(o.people_seen for o in getattr(self.facts, "site_observations", ()))

    # working together (issue 21): the random histories record no partner, handover, meeting or
    # decision
    def m_shifts_with_partners(self, f, w):
        return 0

    def m_handovers(self, f, w):
        return 0

    def m_meetings_held(self, f, w):
        return 0

    def m_decisions_due(self, f, w):
        return 0

    def m_decisions_on_time(self, f, w):
        return 0
