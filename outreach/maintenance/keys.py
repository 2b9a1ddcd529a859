"""Pseudonym key chain and its rotation.

A stored code is ``HMAC(K0, digest)`` (DOMAIN.md, stage 2). Digests are never stored,
so a code cannot be recomputed under a new key from scratch. Rotation therefore adds
a layer: ``code' = HMAC(K1, code)``. The configured key becomes the chain "K0,K1"
and stage 2 folds it: ``HMAC(K1, HMAC(K0, digest))``. A person met after rotation
gets the code stored for them before; a copy of the database taken after rotation
cannot be brute-forced with the old key alone.
"""
import hashlib
import hmac

from sqlalchemy import select, update

from .. import audit
from ..extensions import db
from ..models import Person


class KeyError_(ValueError):
    """A key chain that cannot be used."""


def key_chain(setting):
    """The keys of a PSEUDONYM_KEY setting, innermost first ("K0" or "K0,K1,...")."""
    keys = [k.strip() for k in (setting or "").split(",") if k.strip()]
    if not keys:
        raise KeyError_("empty pseudonym key")
    return keys


def pseudonym_code(digest, setting):
    """Stage 2: fold HMAC-SHA256 over the key chain (one key: exactly HMAC(K0, digest))."""
    return pseudonym_codes((digest,), setting)[digest]


def pseudonym_codes(digests, setting):
    """``{digest: stage-2 code}`` for many digests (imports): each key's HMAC state is prepared
    once."""
    layers = [hmac.new(key.encode(), digestmod=hashlib.sha256) for key in key_chain(setting)]
    codes = {}
    for digest in digests:
        code = digest
        for layer in layers:
            state = layer.copy()
            state.update(code.encode())
            code = state.hexdigest()
        codes[digest] = code
    return codes


def _layer(key, code):
    return hmac.new(key.encode(), code.encode(), hashlib.sha256).hexdigest()


def fingerprint(setting):
    """A short non-secret identifier of a chain, kept in the audit log."""
    text = "outreach-key-fingerprint|" + ",".join(key_chain(setting))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rotate_codes(old_setting, new_key, current_setting):
    """Re-key every Person.code with one more layer; return the new chain. Does not commit."""
    if key_chain(old_setting) != key_chain(current_setting):
        raise KeyError_("the old key is not the key this application uses")
    new_key = new_key.strip()
    if not new_key or "," in new_key or len(new_key) < 32:
        raise KeyError_("the new key must be at least 32 characters, without comma")
    if new_key in key_chain(old_setting):
        raise KeyError_("the new key is already in the chain")
    rows = db.session.execute(select(Person.id, Person.code)).all()
    params = [{"id": pid, "code": _layer(new_key, code)} for pid, code in rows]
    if params:
        db.session.execute(update(Person), params)  # ORM bulk UPDATE by primary key (executemany)
    new_setting = ",".join(key_chain(old_setting) + [new_key])
    audit.record("pseudonym_key_rotated", target=("persons", "*"), details={
        "persons": len(rows), "layers": len(key_chain(new_setting)),
        "old_fingerprint": fingerprint(old_setting), "new_fingerprint": fingerprint(new_setting)})
    return new_setting
