"""How tests/data/demo_0001.json was produced: kept for the record, not run by the suite.

The fixture holds every row of a demo database AS THE 0001 SCHEMA (0.1.0) HELD THEM, so that
tests/test_migrations_upgrade.py can fill a database created at 0001 without today's models (which
change with every revision). It was produced once, right after 0.1.0 (commit eda51e6, whose models
and services are those of 0001), with `.venv/bin/python tests/data/make_demo_0001.py
tests/data/demo_0001.json`. It reads the tables back by reflection, so it writes exactly what the
database at 0001 holds. Run on a later checkout it would fill the database through that checkout's
services: do not regenerate it. Content: `seed-demo`, a synthetic history of 400 contacts over five
years (seed 1), then a small history through the services of the time: shifts of both demo
organisations with sectors, staff, stock, anonymous, group and coded contacts (products, needs,
material, orientations, referrals), a person met by both organisations, a correction, a validation,
referral steps, logins, an API token, and a shift still open (an upgrade can happen mid-shift).
Person codes use the test pseudonym key.
"""
import datetime as dt
import json
import os
import sys
import tempfile

from sqlalchemy import MetaData, select

CONFIG = {"TESTING": True, "SECRET_KEY": "fixture", "PSEUDONYM_KEY": "test-pseudonym-key",
          "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False}
TODAY = dt.date(2026, 11, 30)


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute)


def main(out):
    tmp = tempfile.mkdtemp()
    os.environ["OUTREACH_INSTANCE_PATH"] = tmp
    from flask_migrate import upgrade

    from outreach import create_app
    from outreach.extensions import db
    from outreach.indicators.synthetic import build_history
    from outreach.seed import DEMO_PASSWORD, seed_demo

    app = create_app({**CONFIG, "DATABASE_URL": f"sqlite:///{tmp}/demo.db"})
    with app.app_context():
        upgrade(revision="0001")
        seed_demo()
        db.session.commit()
        build_history(400, 1, today=TODAY)
        token = _field_history(db)
    client = app.test_client()
    for email in ("supervisor@aurore.demo", "manager@plan.demo", "admin@aurore.demo"):
        assert client.post("/connexion",
                           data={"email": email, "password": DEMO_PASSWORD}).status_code == 302
        assert client.post("/deconnexion").status_code == 302
    assert client.post("/connexion",
                       data={"email": "worker@gaia.demo", "password": "wrong"}).status_code != 302
    with app.app_context():
        dump = _dump(db.engine)
    dump["api_token"] = {"email": "worker@aurore.demo", "token": token}
    _write(dump, out)


def _field_history(db):
    from outreach.contacts.services import record_contact
    from outreach.models import RefItem, Sector, Team, User
    from outreach.pseudonyms.services import digest_from_inputs
    from outreach.referrals.services import advance_referral
    from outreach.review.services import correct_contact, validate_shift
    from outreach.security import new_api_token
    from outreach.shifts.services import close_shift, start_shift

    def one(model, **keys):
        return db.session.execute(select(model).filter_by(**keys)).scalar_one()

    def ref(kind, code):
        return one(RefItem, kind=kind, code=code).id

    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    worker, gaia = users["worker@aurore.demo"], users["worker@gaia.demo"]
    supervisor = users["supervisor@aurore.demo"]
    sector = {s.code: s.id for s in db.session.execute(select(Sector)).scalars()}
    shared_person, _weak = digest_from_inputs("D", "Karim", "1984", "m")

    shift = start_shift(worker, {"team_id": one(Team, code="aurore_nord").id, "staff_count": 3,
                                 "started_at": at(27, 19),
                                 "sector_ids": [sector["chapelle"], sector["eole"]],
                                 "stock_out": {ref("material", "kit_base"): 40,
                                               ref("material", "pipe"): 12}})
    db.session.flush()
    record_contact(shift, worker, {"kind": "anonymous", "occurred_at": at(27, 19, 40),
                                   "sector_id": sector["chapelle"], "sex": "f", "age_band": "36_45",
                                   "materials": {ref("material", "kit_base"): 2,
                                                 ref("material", "baume"): 1},
                                   "product_ids": [ref("product", "crack")],
                                   "need_ids": [ref("need", "soins_somatiques")]})
    group = record_contact(shift, worker,
                           {"kind": "anonymous", "people_count": 4, "occurred_at": at(27, 20, 5),
                            "sector_id": sector["eole"],
                            "materials": {ref("material", "collation"): 4}})
    record_contact(shift, worker,
                   {"kind": "known", "digest": shared_person, "occurred_at": at(27, 20, 30),
                    "sector_id": sector["eole"], "sex": "m", "age_band": "36_45",
                    "living_situation_id": ref("living_situation", "rue"),
                    "need_ids": [ref("need", "hebergement"), ref("need", "soins_somatiques")],
                    "orientations": [(ref("destination", "caarud"), True)],
                    "referral_programme_ids": [ref("programme", "assore"),
                                               ref("programme", "siao_115")]})
    record_contact(shift, worker,
                   {"kind": "refusal", "occurred_at": at(27, 21), "sector_id": sector["chapelle"]})
    close_shift(shift, worker, {"ended_at": at(27, 23), "ambiance": "calme", "unapproached_men": 3,
                                "used_material_collected": 15,
                                "stock_back": {ref("material", "kit_base"): 30}})
    db.session.flush()
    correct_contact(group, supervisor, "people_count", "5", "Recompté avec l'équipe au retour")
    validate_shift(shift, supervisor)
    db.session.commit()

    for referral in _referrals(db, shift):
        advance_referral(referral, supervisor, "accepted", dt.date(2026, 11, 28))
    db.session.commit()
    first = _referrals(db, shift)[0]
    advance_referral(first, supervisor, "admitted", dt.date(2026, 11, 29))
    db.session.commit()

    other = start_shift(gaia, {"team_id": one(Team, code="gaia_mobile").id, "staff_count": 2,
                               "started_at": at(28, 18), "sector_ids": [sector["stalingrad"]]})
    db.session.flush()
    record_contact(other, gaia,
                   {"kind": "known", "digest": shared_person, "occurred_at": at(28, 18, 30),
                    "sector_id": sector["stalingrad"], "sex": "m", "age_band": "36_45"})
    close_shift(other, gaia,
                {"ended_at": at(28, 22), "ambiance": "tendue", "police_presence": True})
    db.session.commit()

    still_open = start_shift(worker, {"team_id": one(Team, code="aurore_est").id, "staff_count": 2,
                                      "started_at": at(29, 19),
                                      "sector_ids": [sector["stalingrad"]]})
    db.session.flush()
    record_contact(still_open, worker, {"kind": "anonymous", "occurred_at": at(29, 19, 15),
                                        "sector_id": sector["stalingrad"],
                                        "materials": {ref("material", "kit_base"): 1}})
    token = new_api_token(worker, "intégrateur de démonstration")
    db.session.commit()
    return token


def _referrals(db, shift):
    from outreach.models import Contact, Referral
    return db.session.execute(select(Referral).join(Contact, Referral.contact_id == Contact.id)
                              .where(Contact.shift_id
                                     == shift.id).order_by(Referral.id)).scalars().all()


def _dump(engine):
    """{"revision", "tables": {name: {"columns": [...], "rows": [[...], ...]}}}, rows in primary-key
    order."""
    meta = MetaData()
    meta.reflect(engine)
    tables = {}
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            tables[table.name] = {"columns": [c.name for c in table.columns],
                                  "rows": [[_plain(v) for v in row] for row in rows]}
    return {"revision": revision, "tables": tables}


def _write(dump, out):
    """JSON with one row a line, so that a reader can find a row."""
    def js(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    lines = ["{", f'"api_token":{js(dump["api_token"])},', f'"revision":{js(dump["revision"])},',
             '"tables":{']
    names = sorted(dump["tables"])
    for n, name in enumerate(names):
        table = dump["tables"][name]
        lines.append(f'{js(name)}:{{"columns":{js(table["columns"])},"rows":[')
        lines += [js(row) + ("," if i < len(table["rows"]) - 1 else "")
                  for i, row in enumerate(table["rows"])]
        lines.append("]}" + ("," if n < len(names) - 1 else ""))
    lines += ["}", "}"]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


if __name__ == "__main__":
    main(sys.argv[1])
