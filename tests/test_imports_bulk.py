"""Bulk import engine (column by column, COPY on PostgreSQL): what is written equals the file,
ids are RFC 4122 uuid5, a file that grows is imported incrementally, person spans and first
contacts follow the dates."""
import random
import uuid
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select, text

from outreach.extensions import db
from outreach.imports import services
from outreach.imports.checks import Checker
from outreach.models import Contact, Organisation, Person, Referral


def synthetic_rows(n, seed=1):
    """n template rows as read from a file (the shape bench/import_speed.py uses)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind = rng.choices(("known", "anonymous", "refusal"), (75, 20, 5))[0]
        rows.append((i + 2, {
            "date": (date(2024, 1, 1) + timedelta(days=rng.randrange(400))).isoformat(),
            "time": f"{rng.randrange(18, 24)}:{rng.randrange(60):02d}",
            "team": rng.choice(("aurore_nord", "aurore_est")),
            "sector": rng.choice(("stalingrad", "eole", "")), "kind": kind,
            "people_count": "1" if kind == "known" else str(rng.randint(1, 3)),
            "sex": rng.choice("mfx"), "age_band": rng.choice(("18_25", "26_35")),
            "living_situation": "rue",
            "products": rng.choice(("crack", "", "crack|alcool")), "needs": "",
            "materials": rng.choice(("kit_base:1", "", "kit_base:2|naloxone:1")),
            "orientation": "csapa" if rng.random() < 0.05 else "", "accompanied": "",
            "programme": "assore" if kind == "known" and rng.random() < 0.05 else "",
            "digest": f"{rng.randrange(n // 4 + 1):064x}" if kind == "known" else ""}))
    return rows


def _import(rows, partial=False):
    org = db.session.execute(select(Organisation).filter_by(code="aurore")).scalar_one()
    report = services.import_contacts(rows, org, services.default_importer(org), partial=partial)
    db.session.commit()
    return report


def _scalar(sql):
    return db.session.execute(text(sql)).scalar()


def test_a_synthetic_file_is_written_exactly_and_only_once(app):
    rows = synthetic_rows(3000, seed=7)
    with app.test_request_context():
        report = _import(rows)
        assert (report.created, report.already, report.errors) == (3000, 0, [])
        cells = [values for _line, values in rows]
        assert _scalar("select count(*) from contacts") == 3000
        assert _scalar("select sum(people_count) from "
                       "contacts") == sum(int(c["people_count"]) for c in cells)
        assert _scalar("select sum(quantity) from contact_materials") == sum(
            int(part.split(":")[1]) for c in cells for part in c["materials"].split("|") if part)
        assert _scalar("select count(*) from contact_products") == sum(
            len([p for p in c["products"].split("|") if p]) for c in cells)
        assert _scalar("select count(*) from referrals") == sum(1 for c in cells if c["programme"])
        assert _scalar("select count(*) from "
                       "persons") == len({c["digest"] for c in cells if c["digest"]})
        assert _scalar("select count(*) from contacts where is_first_contact") == _scalar(
            "select count(*) from persons")
        by_kind = dict(
            db.session.execute(text("select kind, count(*) from contacts group by kind")).all())
        assert by_kind == dict(Counter(c["kind"] for c in cells))
        before = _scalar("select count(*) from contacts")
        assert _import(rows).created == 0
        assert _scalar("select count(*) from contacts") == before


def test_ids_are_rfc_uuid5_of_the_content(app):
    rows = synthetic_rows(50, seed=3)
    with app.test_request_context():
        _import(rows)
        aurore = db.session.execute(select(Organisation).filter_by(code="aurore")).scalar_one()
        parsed, _errors = Checker(services.load_lookups(aurore)).check_all(rows)
        keys = parsed.content_keys()
        ranks, expected = Counter(), set()
        for key in keys:
            ranks[key] += 1
            expected.add(str(uuid.uuid5(services.NAMESPACE, f"aurore|{key}|{ranks[key]}")))
        assert set(db.session.execute(select(Contact.id)).scalars()) == expected


def _row(day, time, digest="", kind="known", team="aurore_nord", programme=""):
    return {"date": day, "time": time, "team": team, "kind": kind, "digest": digest,
            "programme": programme}


def test_a_growing_file_adds_only_its_new_rows_and_moves_person_spans(app):
    a, b = "a" * 64, "b" * 64
    first = [(2, _row("2025-03-10", "21:00", a, programme="assore")),
             (3, _row("2025-03-12", "22:00", b)),
             (4, _row("2025-03-12", "22:00", kind="anonymous"))]
    later = first + [(5, _row("2025-02-01", "20:00", a, team="aurore_est")),
                     (6, _row("2025-04-01", "20:00", b, programme="phase")),
                     # a second identical anonymous row
                     (7, _row("2025-03-12", "22:00", kind="anonymous"))]
    with app.test_request_context():
        assert _import(first).created == 3
        report = _import(later)
        assert (report.created, report.already) == (3, 3)
        spans = {code[:1]: (str(f), str(last)) for code, f, last in db.session.execute(
            select(Person.code, Person.first_seen_on, Person.last_seen_on))}
        assert len(spans) == 2
        assert sorted(spans.values()) == [("2025-02-01", "2025-03-10"),
                                          ("2025-03-12", "2025-04-01")]
        assert db.session.execute(select(func.count()).select_from(Contact)
                                  .where(Contact.is_first_contact.is_(True))).scalar() == 2
        assert _scalar("select count(*) from contacts where kind = 'anonymous'") == 2
        assert _scalar("select count(*) from shifts") == 4
        # the referrals carry their person's first contact, moved back by the older row of the
        # second file
        copies = sorted((str(first), str(copy)) for first, copy in db.session.execute(
            select(Person.first_seen_on,
                   Referral.person_first_seen_on).join(Referral, Referral.person_id == Person.id)))
        assert copies == [("2025-02-01", "2025-02-01"), ("2025-03-12", "2025-03-12")]


def test_errors_come_in_line_then_column_order(app):
    rows = [(2, _row("2025-03-10", "21:00", "a" * 64)),
            (3, {"date": "hier", "time": "25:00", "team": "x", "kind": "known", "digest": "",
                 "accompanied": "oui"}),
            (4, {"date": "2025-03-10", "team": "aurore_nord", "kind": "anonymous",
                 "digest": "c" * 64}),
            (5,
             {"date": "2025-03-10", "team": "aurore_nord", "kind": "anonymous", "people_count": "²",
              "materials": "kit_base:³"})]
    with app.test_request_context():
        report = _import(rows)
        assert report.created == 0 and report.valid == 1
        assert [(e.line, e.column) for e in report.errors] == [
            (3, "date"), (3, "time"), (3, "team"), (3, "digest"), (3, "accompanied"), (4, "digest"),
            (5, "people_count"), (5, "materials")]
        assert _scalar("select count(*) from contacts") == 0
        assert _import(rows, partial=True).created == 1
