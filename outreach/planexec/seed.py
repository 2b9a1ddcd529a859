"""Demo plan-execution data (illustrative, after DOMAIN.md): funders, places that grow, actions in
every status with dated history and late milestones, a budget that overruns the initial commitment,
population estimates. Idempotent: nothing is added once a funder exists. Called from
``outreach.seed.seed_demo``."""
import datetime as dt

from ..extensions import db
from ..models import (
    ActionMilestone,
    ActionStatusChange,
    BudgetLine,
    Funder,
    Organisation,
    PlaceCapacity,
    PlanAction,
    PopulationEstimate,
    RefItem,
    User,
)

FUNDERS = [("etat_drihl", "État / DRIHL", "State / DRIHL"),
           ("ars", "ARS Île-de-France", "Regional health agency"),
           ("ville_paris", "Ville de Paris", "City of Paris"), ("mildeca", "MILDECA", "MILDECA")]

# (programme, operator, starts_on, places, note)
CAPACITY = [
    ("assore", "aurore", "2019-05-01", 220, "Places ASSORE au lancement du plan"),
    ("assore", "aurore", "2020-04-15", 450, "Mise à l'abri du confinement"),
    ("assore", "aurore", "2022-02-01", 510, "Places pérennisées"),
    ("phase", "aurore", "2019-05-01", 40, "Appartements partagés"),
    ("phase", "aurore", "2021-09-01", 60, "Extension"),
    ("espace_repos", "gaia", "2020-10-01", 20, "Espace de repos de nuit"),
    ("logement_accompagne", "aurore", "2021-01-01", 15, "Pension de famille (aval)"),
]

# action number -> [(effective_on, status, reason, evidence)]
STATUSES = {
    "1.1": [("2019-06-01", "started", "Maraudes renforcées dans le 18e", "Conventions signées"),
            ("2020-06-01", "done", "Trois équipes de nuit en place", "Bilan annuel 2020")],
    "1.2": [("2019-09-01", "started", "Kits base distribués par les maraudes", ""),
            ("2021-03-01", "partly_done", "Distribution inégale selon les sites",
             "Bilan CAARUD 2020")],
    "1.3": [("2019-07-01", "started", "Orientations accompagnées vers les CSAPA", "")],
    "2.1": [("2019-05-15", "started", "Hôtels mobilisés", ""),
            ("2020-05-01", "done", "450 places ouvertes au confinement",
             "Arrêté de financement DRIHL")],
    "2.2": [("2019-10-01", "started", "Appartements PHASE", ""),
            ("2021-06-01", "partly_done", "Sorties vers le logement trop rares",
             "Comité de suivi du 1er juin 2021")],
    "2.3": [("2020-01-15", "started", "Recherche de places en aval", ""),
            ("2021-02-01", "abandoned", "Aucun bailleur trouvé pour le projet initial",
             "Compte rendu du comité")],
    "3.1": [("2020-10-01", "started", "Espace de repos ouvert la nuit", "")],
    "3.2": [("2021-09-01", "started", "Recherche d'un site pour la salle", "")],
}

MILESTONES = [  # action, title, created_on, due_on, done_on
    ("2.1", "Ouvrir 300 places d'hôtel", "2019-05-01", "2019-12-31", "2020-04-20"),
    ("2.2", "Conventionner 20 appartements supplémentaires", "2019-10-01", "2020-12-31", None),
    ("2.3", "Signer une convention avec un bailleur social", "2019-10-01", "2020-06-30", None),
    ("3.2", "Trouver un site pour la salle de consommation", "2020-01-01", "2021-03-31", None),
    ("1.1", "Équipe de nuit dans le 19e", "2019-06-01", "2019-11-30", "2019-11-15"),
    ("4.2", "Premier rapport de suivi du plan", "2020-01-01", "2020-09-30", None),
]

# action, funder, year, planned, committed, spent (euros): shelter places overrun the initial
# commitment
BUDGETS = [
    ("1.1", "ville_paris", 2019, 600_000, 650_000, 640_000),
    ("1.1", "ars", 2020, 700_000, 900_000, 880_000),
    ("1.1", "ars", 2021, 700_000, 1_100_000, 1_050_000),
    ("1.2", "mildeca", 2020, 150_000, 150_000, 120_000),
    ("2.1", "etat_drihl", 2019, 1_500_000, 2_000_000, 1_900_000),
    ("2.1", "etat_drihl", 2020, 1_500_000, 7_500_000, 7_200_000),
    ("2.1", "etat_drihl", 2021, 1_500_000, 8_200_000, 7_900_000),
    ("2.2", "etat_drihl", 2020, 400_000, 450_000, 430_000),
    ("2.3", "ville_paris", 2021, 500_000, 0, 0), ("3.1", "ars", 2021, 300_000, 350_000, 310_000),
]

ESTIMATES = [("2018-02-15", "Paris (toutes situations)", 2952, 2952, "Nuit de la Solidarité 2018"),
             ("2021-06-01", "Nord-est parisien (usager·es de crack à la rue)", 700, 800,
              "Estimation citée par la CRC Île-de-France, 2021")]


def _day(text):
    return dt.date.fromisoformat(text)


def seed_plan_execution():
    if db.session.execute(db.select(Funder.id).limit(1)).first():
        return
    manager = db.session.execute(
        db.select(User).filter_by(role="manager").order_by(User.id).limit(1)).scalar()
    actions = {a.number: a for a in db.session.execute(db.select(PlanAction)).scalars()}
    if manager is None or not actions:
        return
    funders = {code: Funder(code=code, label=label, label_en=en, position=i)
               for i, (code, label, en) in enumerate(FUNDERS)}
    db.session.add_all(funders.values())
    _seed_places(manager)
    for number, changes in STATUSES.items():
        for on, status, reason, evidence in changes:
            if number in actions:
                db.session.add(
                    ActionStatusChange(action=actions[number], status=status, effective_on=_day(on),
                                       reason=reason, evidence=evidence, recorded_by=manager))
    for number, title, created, due, done in MILESTONES:
        if number in actions:
            db.session.add(
                ActionMilestone(action=actions[number], title=title, created_on=_day(created),
                                due_on=_day(due), done_on=_day(done) if done else None))
    for number, funder, year, *amounts in BUDGETS:
        if number in actions:
            planned, committed, spent = (a * 100 for a in amounts)
            db.session.add(BudgetLine(action=actions[number], funder=funders[funder], year=year,
                                      planned_cents=planned,
                                      committed_cents=committed, spent_cents=spent))
    for on, area, low, high, source in ESTIMATES:
        db.session.add(
            PopulationEstimate(estimated_on=_day(on), area=area, low=low, high=high, source=source,
                               recorded_by=manager))
    db.session.flush()


def _seed_places(manager):
    programmes = ({p.code: p for p in db.session.execute(
        db.select(RefItem).filter_by(kind="programme")).scalars()})
    organisations = {o.code: o for o in db.session.execute(db.select(Organisation)).scalars()}
    for programme, operator, on, places, note in CAPACITY:
        if programme in programmes and operator in organisations:
            db.session.add(
                PlaceCapacity(programme=programmes[programme], organisation=organisations[operator],
                              starts_on=_day(on), places=places, note=note, recorded_by=manager))
