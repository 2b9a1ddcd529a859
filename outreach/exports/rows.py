"""An organisation's own contacts as CSV for its admin, with person codes re-keyed per export.

Each export draws a random key and writes HMAC(key, code) truncated: within one file
the same person keeps the same code, but two exports cannot be joined on it. Internal
ids are left out for the same reason. Every export is audited.
"""
import hashlib
import hmac
import io
import secrets
from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import audit
from ..cells import CsvWriter
from ..extensions import db
from ..models import (
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    RefItem,
    Sector,
    Team,
    contact_needs,
    contact_products,
)

COLUMNS = ("date", "time", "team", "sector", "kind", "people_count", "sex", "age_band",
           "living_situation",
           "products", "needs", "materials", "orientation", "accompanied", "programme", "person",
           "first_contact")


def rekey(key, code):
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:20] if code else ""


def _contacts(org_id):
    living = aliased(RefItem)
    query = (select(Contact.id, Contact.occurred_at, Team.code, Sector.code, Contact.kind,
                    Contact.people_count,
                    Contact.sex, Contact.age_band, living.code, Person.code,
                    Contact.is_first_contact)
             .join(Team, Team.id == Contact.team_id).outerjoin(Sector,
                                                               Sector.id == Contact.sector_id)
             .outerjoin(living, living.id == Contact.living_situation_id)
             .outerjoin(Person, Person.id == Contact.person_id)
             .where(Contact.organisation_id == org_id).order_by(Contact.occurred_at, Contact.id))
    return db.session.execute(query).all()


def _grouped(org_id, table, item_column, extra=None):
    """{contact id: ["code" or "code:extra", ...]} for one detail table, in one query."""
    columns = [table.c.contact_id, RefItem.code] + ([extra] if extra is not None else [])
    query = (select(*columns).join(RefItem, RefItem.id == item_column)
             .join(Contact,
                   Contact.id == table.c.contact_id).where(Contact.organisation_id == org_id)
             .order_by(RefItem.position, RefItem.code))
    found = defaultdict(list)
    for contact_id, code, *more in db.session.execute(query):
        found[contact_id].append(f"{code}:{more[0]}" if more else code)
    return found


def contact_rows(org_id, key):
    details = {
        "products": _grouped(org_id, contact_products, contact_products.c.product_id),
        "needs": _grouped(org_id, contact_needs, contact_needs.c.need_id),
        "materials": _grouped(org_id, ContactMaterial.__table__, ContactMaterial.material_id,
                              ContactMaterial.quantity),
        "orientation": _grouped(org_id, Orientation.__table__, Orientation.destination_id),
        "accompanied": _grouped(org_id, Orientation.__table__, Orientation.destination_id,
                                Orientation.is_accompanied),
        "programme": _grouped(org_id, Referral.__table__, Referral.programme_id),
    }
    for cid, at, team, sector, kind, count, sex, age, living, code, first in _contacts(org_id):
        accompanied = any(x.endswith((":True", ":1")) for x in details["accompanied"].get(cid, []))
        yield [at.date().isoformat(), at.strftime("%H:%M"), team, sector or "", kind, count,
               sex or "", age or "",
               living or "", "|".join(details["products"].get(cid, [])),
               "|".join(details["needs"].get(cid, [])),
               "|".join(details["materials"].get(cid, [])),
               "|".join(details["orientation"].get(cid, [])),
               "oui" if accompanied else "non", "|".join(details["programme"].get(cid, [])),
               rekey(key, code), "oui" if first else "non"]


def export_contacts(organisation, user, separator=";"):
    """CSV text of the organisation's contacts with per-export codes; audits the export (caller
    commits)."""
    key = secrets.token_bytes(32)
    out = io.StringIO()
    writer = CsvWriter(out, separator)
    writer.writerow(COLUMNS)
    count = 0
    for row in contact_rows(organisation.id, key):
        writer.writerow(row)
        count += 1
    audit.record("export.contacts", actor=user, target=("organisations", organisation.id),
                 organisation_id=organisation.id, details={"rows": count, "format": "csv"},
                 reason=_(
                     "export des contacts de l'organisation (codes re-chiffrés pour cet export)"))
    return "\ufeff" + out.getvalue()
