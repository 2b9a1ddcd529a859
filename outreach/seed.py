"""Demo data: two organisations, their teams and demo logins. Idempotent.

Demo logins exist only through this seed (``flask --app wsgi seed-demo``)."""
from .extensions import db
from .models import Organisation, Sector, Team, User
from .planexec.seed import seed_plan_execution
from .reference.services import ensure_defaults
from .security import hash_password

DEMO_PASSWORD = "demo-password"

ORGANISATIONS = [
    ("aurore", "Aurore", False,
     [("aurore_nord", "Maraude Nord (18e)", ["chapelle", "eole", "barbes", "marx_dormoy"]),
      ("aurore_est", "Maraude Est (19e)", ["stalingrad", "jaures", "rosa_parks", "forceval"])]),
    ("gaia", "Gaïa", False, [("gaia_mobile", "Équipe mobile Gaïa",
                              ["stalingrad", "forceval", "belleville", "porte_bagnolet"])]),
    ("plan", "Pilotage du plan (Ville, préfecture, ARS, MILDECA)", True, []),
]

DEMO_USERS = [
    ("worker@aurore.demo", "worker", "aurore", ["aurore_nord", "aurore_est"]),
    ("supervisor@aurore.demo", "supervisor", "aurore", ["aurore_nord", "aurore_est"]),
    ("admin@aurore.demo", "admin", "aurore", []),
    ("worker@gaia.demo", "worker", "gaia", ["gaia_mobile"]),
    ("supervisor@gaia.demo", "supervisor", "gaia", ["gaia_mobile"]),
    ("admin@gaia.demo", "admin", "gaia", []),
    ("manager@plan.demo", "manager", "plan", []),
]


def _get_or_create(model, defaults=None, **keys):
    obj = db.session.execute(db.select(model).filter_by(**keys)).scalar_one_or_none()
    if obj is None:
        obj = model(**keys, **(defaults or {}))
        db.session.add(obj)
        db.session.flush()
    return obj


def seed_organisations():
    sectors = {s.code: s for s in db.session.execute(db.select(Sector)).scalars()}
    for code, name, is_partner, teams in ORGANISATIONS:
        org = _get_or_create(Organisation, {"name": name, "is_partner_institution": is_partner},
                             code=code)
        for team_code, team_name, sector_codes in teams:
            team = _get_or_create(Team, {"name": team_name}, organisation_id=org.id, code=team_code)
            if not team.sectors:
                team.sectors = [sectors[c] for c in sector_codes] + [sectors["autre"]]


def seed_users():
    orgs = {o.code: o for o in db.session.execute(db.select(Organisation)).scalars()}
    teams = {t.code: t for t in db.session.execute(db.select(Team)).scalars()}
    created = []
    for email, role, org_code, team_codes in DEMO_USERS:
        if db.session.execute(db.select(User.id).filter_by(email=email)).first():
            continue
        db.session.add(User(email=email, role=role, organisation=orgs[org_code],
                            password_hash=hash_password(DEMO_PASSWORD),
                            teams=[teams[c] for c in team_codes]))
        created.append(email)
    return created


def seed_demo():
    """Reference lists, organisations, teams and demo users; returns the emails created."""
    ensure_defaults()
    seed_organisations()
    created = seed_users()
    from .indicators.catalogue import install_seed
    install_seed()
    from .sites.seed import seed_sites_demo
    seed_sites_demo()
    db.session.flush()
    seed_plan_execution()
    return created


BULK_TABLES = ("contacts", "persons", "shifts", "contact_materials", "contact_products",
               "contact_needs", "orientations", "referrals", "referral_events")


def analyze(connection, tables=BULK_TABLES):
    """PostgreSQL: fresh statistics after a bulk seed or import (a table filled in one transaction
    keeps the statistics of its empty self until autovacuum comes by, and the planner scans where an
    index would do). Runs inside the caller's transaction; nothing to do on SQLite, whose planner
    needs no statistics here."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
