"""The phone's clock against the server's: the server's clock decides.

A phone sends its own clock with every write (``X-Client-Clock``: milliseconds since the epoch, read
just before sending) and names the times of the body it took from that clock rather than from the
worker's typing (``X-Client-Clock-Fields``: e.g. ``occurred_at``). Offset = phone clock - server
clock. Beyond ``TOLERANCE`` the named times are moved by the offset (a record made offline hours ago
was taken with the same clock) and the offset is written to the audit log; typed times (Paris
wall-clock times the worker read) are kept as they are.
"""
import datetime as dt

from flask import request

from .. import audit
from ..models import utcnow

TOLERANCE = dt.timedelta(minutes=2)


def phone_offset():
    """Phone clock minus server clock, or None when the request does not carry the phone's clock."""
    value = request.headers.get("X-Client-Clock", "")
    if not value.isdigit():
        return None
    phone = dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC).replace(tzinfo=None)
    return phone - utcnow()


def correct_phone_times(data, field, target):
    """Move ``data[field]`` by the phone's offset when the phone took it from its own (wrong)
    clock."""
    offset = phone_offset()
    if offset is None or abs(offset) <= TOLERANCE:
        return data
    named = {f.strip() for f in request.headers.get("X-Client-Clock-Fields", "").split(",")}
    corrected = field in named and data.get(field) is not None
    if corrected:
        data[field] = data[field] - offset
    audit.record("device.clock", target=target, details={
        "offset_seconds": round(offset.total_seconds()), "corrected": [field] if corrected else []})
    return data
