"""The saves of the API and the logging form write a contact with Core statements
(``contacts.insert_contact``, ``contacts.rows``) instead of the ORM's flush (``record_contact``):
the same contacts saved both ways, from the same database, leave exactly the same rows in every
table (the contact, its products, needs, material, orientations, referrals and their steps, the
person and its dates, the roll-up marks, the audit of a late contact), on both databases."""
import datetime as dt
import itertools
import uuid

from conftest import insert_demo
from flask_login import login_user
from sqlalchemy import DateTime, select

from outreach.contacts import services as contacts
from outreach.extensions import db
from outreach.models import Contact, RollupDirty, Shift, User, utcnow
from outreach.reference import services as reference
from outreach.shifts.services import close_shift, start_shift

WORKER = "worker@aurore.demo"
SAVES = 6  # the contacts of ``_contacts``
CLOSED, OPEN = "00000000-0000-4000-8000-00000000c105", "00000000-0000-4000-8000-0000000000e0"


class _Uuids:
    """``uuid`` for the services, with numbered ids (the referrals' ids are drawn there)."""
    UUID = uuid.UUID

    def __init__(self):
        self._next = itertools.count(1)

    def uuid4(self):
        return uuid.UUID(int=next(self._next))


def _contacts(now):
    """The saves, in order: (shift id, data), with every kind of row a contact can hold."""
    ids = reference.codes_to_ids

    def codes(kind, *wanted):
        return [ids(kind)[code] for code in wanted]

    sector = ids("sector")["stalingrad"]
    rich = {"kind": "anonymous", "people_count": 3, "sector_id": sector, "sex": "f",
            "age_band": "26_35", "living_situation_id": ids("living_situation")["rue"],
            "product_ids": codes("product", "crack", "alcool"),
            "need_ids": codes("need", "hebergement", "soins_somatiques"),
            "materials": dict(zip(codes("material", "kit_base", "baume"), (2, 1))),
            "orientations": [(ids("destination")["caarud"], True),
                             (ids("destination")["csapa"], False)]}
    known = {"kind": "known", "digest": "c" * 64, "sector_id": sector, "sex": "m",
             "need_ids": codes("need", "hebergement"),
             "orientations": [(ids("destination")["caarud"], False)],
             "referral_programme_ids": codes("programme", "assore", "siao_115")}
    return [
        (OPEN, {"kind": "anonymous", "occurred_at": now - dt.timedelta(minutes=100),
                "sector_id": sector, "sex": "m", "age_band": "26_35"}),
        (OPEN, {**rich, "occurred_at": now - dt.timedelta(minutes=90)}),
        (OPEN, {**known, "occurred_at": now - dt.timedelta(minutes=80)}),
        # the same person met earlier in the shift: their first contact moves back, and with it
        # the referrals' copy of that date
        (OPEN, {**known, "occurred_at": now - dt.timedelta(minutes=110), "is_weak": True,
                "orientations": [], "referral_programme_ids": codes("programme", "lhss_lam")}),
        (OPEN, {"kind": "refusal", "occurred_at": now - dt.timedelta(minutes=70)}),
        # a phone's queue reaching a closed shift: kept, flagged late and audited
        (CLOSED, {**rich, "occurred_at": now - dt.timedelta(hours=5)}),
    ]


def _save_all(app, write, now):
    """Two shifts (one closed, one open), then every contact of ``_contacts``, each committed
    alone as the API does; the ids the saves returned."""
    saved = []
    with app.test_request_context():
        user = db.session.execute(select(User).filter_by(email=WORKER)).scalar_one()
        login_user(user)
        team = user.teams[0].id
        closed = start_shift(user, {"id": CLOSED, "team_id": team, "staff_count": 2,
                                    "started_at": now - dt.timedelta(hours=6)})
        db.session.flush()
        close_shift(closed, user, {"ended_at": now - dt.timedelta(hours=4)})
        closed.closed_at = now - dt.timedelta(hours=4)  # the audit of the late contact names it
        start_shift(user, {"id": OPEN, "team_id": team, "staff_count": 1,
                           "started_at": now - dt.timedelta(hours=2)})
        db.session.commit()
        for n, (shift_id, data) in enumerate(_contacts(now)):
            shift = db.session.get(Shift, shift_id)
            contact = write(shift, user, {**data, "id": str(uuid.UUID(int=1000 + n))})
            saved.append(contact.id)
            db.session.commit()
    return saved


def _rows(app, since):
    """Every row of every table; times written by the clock during the saves read "now"."""
    found = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            clock = [c.name for c in table.columns if isinstance(c.type, DateTime)]
            rows = []
            for row in db.session.execute(select(table)).mappings():
                row = dict(row)
                for name in clock:
                    if row[name] is not None and row[name] >= since:
                        row[name] = "now"
                rows.append(tuple(sorted(row.items(), key=lambda item: item[0])))
            found[table.name] = sorted(rows, key=repr)
    return found


def test_the_core_writer_leaves_the_rows_of_the_orm_flush(app, demo_rows, monkeypatch):
    now = utcnow().replace(microsecond=0)
    since = now - dt.timedelta(seconds=1)
    found = {}
    for name, write in (("orm", contacts.record_contact), ("core", contacts.insert_contact)):
        insert_demo(app, demo_rows)  # the same database, ids and sequences for both
        monkeypatch.setattr(contacts, "uuid", _Uuids())
        saved = _save_all(app, write, now)
        found[name] = _rows(app, since)
        assert saved == [str(uuid.UUID(int=1000 + n)) for n in range(SAVES)]
    orm, core = found["orm"], found["core"]
    assert orm.keys() == core.keys()
    for table in orm:
        assert core[table] == orm[table], table
    with app.app_context():  # what the comparison covered
        stored = db.session.execute(select(Contact)).scalars().all()
        assert len(stored) == SAVES and sum(c.is_late for c in stored) == 1
        assert sum(len(c.referrals) for c in stored) == 3
        assert sum(len(c.orientations) for c in stored) == 5
        assert db.session.execute(select(RollupDirty)).scalars().all()
