"""Test data for export tests: contacts imported through the import service (validated shifts)."""
from datetime import timedelta

from outreach.contract import local_today
from outreach.extensions import db
from outreach.imports import services
from outreach.models import Organisation, User


def _row(day, team, kind="anonymous", digest="", materials="kit_base:1", programme=""):
    return {"date": day.isoformat(), "time": "21:00", "team": team, "sector": "stalingrad",
            "kind": kind,
            "people_count": "1", "sex": "m", "age_band": "26_35", "living_situation": "rue",
            "products": "crack",
            "needs": "", "materials": materials, "orientation": "", "accompanied": "",
            "programme": programme, "digest": digest}


def seed_contacts(app):
    """aurore: 40 contacts (12 known persons, some met twice), gaia: 3 contacts (small cells)."""
    day = local_today().replace(day=1) - timedelta(days=20)
    aurore = [_row(day - timedelta(days=i % 9), "aurore_nord" if i % 2 else "aurore_est",
                   kind="known" if i < 24 else "anonymous",
                   digest=f"{i % 12:064x}" if i < 24 else "",
                   programme="assore" if i in (1, 2, 3, 4, 5, 6) else "") for i in range(40)]
    gaia = [_row(day, "gaia_mobile", kind="known", digest=f"{100 + i:064x}") for i in range(3)]
    with app.app_context(), app.test_request_context():
        for code, rows in (("aurore", aurore), ("gaia", gaia)):
            import_rows(code, rows)
        db.session.commit()
    return day


def import_rows(code, rows):
    """Import template ``rows`` for the organisation ``code`` as its default importer (in a
    request context)."""
    org = db.session.execute(db.select(Organisation).filter_by(code=code)).scalar_one()
    user = services.default_importer(org) or db.session.execute(
        db.select(User).filter_by(organisation_id=org.id)).scalars().first()
    report = services.import_contacts(list(enumerate(rows, start=2)), org, user)
    assert not report.errors, report.errors
