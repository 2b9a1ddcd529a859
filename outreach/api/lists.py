"""Lists of the caller's shifts, encounters and referrals, newest first, a page at a time.

GET /api/v1/shifts, /api/v1/encounters, /api/v1/referrals take the query arguments of every read
(``outreach.queryargs``: ``from``/``to`` as YYYY-MM or YYYY-MM-DD,
``team``/``sector``/``organisation`` codes, 400 naming an unknown one), a state or kind code,
``limit`` (1-200, 50) and ``cursor``: the ``next`` link of an answer gives the following page
(keyset pagination: a row written meanwhile neither repeats nor hides one). Scope: ``access.scoped``
(the caller's organisation; a worker's encounters and referrals are those of their teams), as for
one encounter.
"""
import base64
import json
from datetime import date, datetime

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import false

from .. import contract, queryargs
from ..access import allow, scoped
from ..extensions import db
from ..models import (
    REFERRAL_STATES,
    SHIFT_STATES,
    Contact,
    Referral,
    Shift,
    shift_sectors,
)
from ..queryargs import BadQuery
from . import bp
from .write import WRITERS, encounter_json, referral_json, shift_json

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def _page_args(args):
    return queryargs.parse_int(args, "limit", DEFAULT_LIMIT, 1,
                               MAX_LIMIT), _cursor(args.get("cursor"))


def _cursor(text):
    """(sort key, id) of the last row of the previous page, or None."""
    if not text:
        return None
    try:
        key, row_id = json.loads(
            base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4)))
        if not queryargs.plausible_code(row_id):
            raise ValueError(row_id)
        return (datetime.fromisoformat(key) if "T" in key else date.fromisoformat(key)), row_id
    except (ValueError, TypeError, UnicodeError):
        raise BadQuery(
            {"cursor": _("Curseur invalide : reprenez le lien « next » d'une réponse.")}) from None


def _encode(key, row_id):
    text = json.dumps([key.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _page(query, key_column, id_column, key_of, limit, cursor, to_json):
    """One page of ``query`` ordered by (key, id) descending, with the ``next`` link when more rows
    follow."""
    if cursor is not None:
        key, row_id = cursor
        query = query.where((key_column < key) | ((key_column == key) & (id_column < row_id)))
    ordered = query.order_by(key_column.desc(), id_column.desc()).limit(limit + 1)
    rows = db.session.execute(ordered).unique().scalars().all()
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        following = url_for(request.endpoint, **args, cursor=_encode(key_of(rows[-1]), rows[-1].id))
    return jsonify(items=[to_json(row) for row in rows], limit=limit, next=following)


def _filters(args):
    """(filters of ``outreach.queryargs``, first day or None, last day or None)."""
    filters = queryargs.parse_filters(args, current_user)
    return filters, *queryargs.parse_days(args)


def _where_common(query, model, filters, day_column, start, end):
    query = scoped(query, model, current_user)
    if filters.get("organisation_id") is not None:
        query = query.where(model.organisation_id == filters["organisation_id"])
    if start is not None:
        query = query.where(day_column >= start)
    if end is not None:
        query = query.where(day_column <= end)
    return query


@bp.route("/api/v1/shifts", methods=["GET"])
@allow(*WRITERS)
def list_shifts():
    filters, start, end = _filters(request.args)
    state = queryargs.parse_choice(request.args, "state", SHIFT_STATES)
    limit, cursor = _page_args(request.args)
    query = _where_common(
        db.select(Shift).options(db.selectinload(Shift.sectors), db.selectinload(Shift.stock),
                                 db.joinedload(Shift.team)),
        Shift, filters, Shift.shift_on, start, end)
    if filters.get("team_id"):
        query = query.where(Shift.team_id == filters["team_id"])
    if filters.get("sector_id"):
        query = query.where(Shift.id.in_(db.select(shift_sectors.c.shift_id)
                                         .where(shift_sectors.c.sector_id == filters["sector_id"])))
    if state:
        query = query.where(Shift.status == state)
    return _page(query, Shift.started_at, Shift.id, lambda s: s.started_at, limit, cursor,
                 shift_json)


@bp.route("/api/v1/encounters", methods=["GET"])
@allow(*WRITERS)
def list_encounters():
    filters, start, end = _filters(request.args)
    kind = queryargs.parse_choice(request.args, "kind", contract.KINDS)
    limit, cursor = _page_args(request.args)
    query = _where_common(db.select(Contact).options(
        db.joinedload(Contact.sector), db.joinedload(Contact.person),
        db.selectinload(Contact.orientations),
        db.selectinload(Contact.referrals)), Contact, filters, Contact.occurred_on, start, end)
    for key, column in (("team_id", Contact.team_id), ("sector_id", Contact.sector_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if kind:
        query = query.where(Contact.kind == kind)
    shift_id = request.args.get("shift")
    if shift_id:
        # an id no shift can have matches nothing (before, its NUL bytes were dropped: another id)
        query = query.where((Contact.shift_id == shift_id) if queryargs.plausible_code(shift_id)
                            else false())
    return _page(query, Contact.occurred_at, Contact.id, lambda c: c.occurred_at, limit, cursor,
                 encounter_json)


def _listed_referral(referral):
    return {**referral_json(referral), "contact_id": referral.contact_id,
            "proposed_on": referral.proposed_on.isoformat(),
            "team": referral.contact.team.code,
            "sector": referral.contact.sector.code if referral.contact.sector else None}


@bp.route("/api/v1/referrals", methods=["GET"])
@allow(*WRITERS)
def list_referrals():
    filters, start, end = _filters(request.args)
    state = queryargs.parse_choice(request.args, "state", REFERRAL_STATES)
    limit, cursor = _page_args(request.args)
    query = _where_common(
        db.select(Referral).join(Contact, Contact.id == Referral.contact_id).options(
        db.selectinload(Referral.events), db.joinedload(Referral.programme),
        db.joinedload(Referral.contact)), Referral, filters, Referral.proposed_on, start, end)
    for key, column in (("team_id", Contact.team_id), ("sector_id", Contact.sector_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if state:
        query = query.where(Referral.status == state)
    return _page(query, Referral.proposed_on, Referral.id, lambda r: r.proposed_on, limit, cursor,
                 _listed_referral)
