"""The tally (compteur) of the logging page: faster than a paper tally sheet.

One tap, one record, each idempotent so that the phone's queue can send it again without a
duplicate:
- a group of N people (an anonymous passage) or a refusal is a new contact with the client's id
  (``record_contact``, as the form and the API);
- "+1 person" and "+1 kit" on the group just counted *set* its people count or its quantity of the
tally's
  material to a number (never "add one"): a replayed set leaves the same numbers. They go through
  ``update_contact``, with its rules (contract, team, shift not validated, audit when the shift is
  closed);
- undo sets the previous numbers back, or removes the group it created (``delete_contact``: own
contact,
  shift open, within UNDO_MINUTES); removing a contact already gone is a replay and changes nothing.
Functions never commit."""

from flask_babel import gettext as _

from .. import contract
from ..errors import ValidationError
from ..extensions import db
from ..models import Contact, ContactMaterial
from . import services


def tally_material(materials):
    """The material a tap gives: the one the team gives most (the list comes ordered by use)."""
    return materials[0] if materials else None


def totals(shift, material):
    """The shift's running totals shown next to the taps: people in anonymous passages, the tally
    material given (in any contact), refusals."""
    people, refusals = db.session.execute(
        db.select(
            db.func.coalesce(
                db.func.sum(db.case((Contact.kind == "anonymous", Contact.people_count), else_=0)),
                0,
            ),
            db.func.count(db.case((Contact.kind == "refusal", 1))),
        ).where(Contact.shift_id == shift.id)
    ).one()
    given = db.session.execute(
        db.select(db.func.coalesce(db.func.sum(ContactMaterial.quantity), 0))
        .join(Contact, Contact.id == ContactMaterial.contact_id)
        .where(
            Contact.shift_id == shift.id,
            ContactMaterial.material_id == (material.id if material else -1),
        )
    ).scalar_one()
    return {"people": int(people), "given": int(given), "refusals": int(refusals)}


def group_data(kind, people_count, material=None, quantity=0):
    """Service data of a new tally contact (the form's shape, as ``forms.contact_data`` returns
    it)."""
    contract.check_contact(kind, False, people_count)
    return {
        "kind": kind,
        "people_count": people_count,
        "materials": {material.id: quantity} if material is not None and quantity else {},
    }


def _as_data(contact):
    """``update_contact``'s data for the contact as stored (the time kept, no new code)."""
    return {
        "kind": contact.kind,
        "occurred_at": None,
        "sector_id": contact.sector_id,
        "people_count": contact.people_count,
        "sex": contact.sex,
        "age_band": contact.age_band,
        "living_situation_id": contact.living_situation_id,
        "product_ids": [i.id for i in contact.products],
        "need_ids": [i.id for i in contact.needs],
        "materials": {m.material_id: m.quantity for m in contact.materials},
        "orientations": [(o.destination_id, o.is_accompanied) for o in contact.orientations],
        "referral_programme_ids": [r.programme_id for r in contact.referrals],
    }


def counts_of(contact, material):
    """(people count, quantity of ``material``) of a tally group."""
    quantity = next(
        (m.quantity for m in contact.materials if material and m.material_id == material.id), 0
    )
    return contact.people_count, quantity


def set_counts(contact, user, people_count=None, material=None, quantity=None):
    """Set the group's people count and/or its quantity of ``material``: idempotent."""
    if contact.kind != "anonymous":
        raise ValidationError({"people_count": _("Le compteur ne change qu'un passage anonyme.")})
    data = _as_data(contact)
    if people_count is not None:
        data["people_count"] = people_count
    if material is not None and quantity is not None:
        data["materials"][material.id] = contract.check_quantity(quantity)
    return services.update_contact(contact, user, data)
