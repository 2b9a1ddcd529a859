"""Helpers of the authentication tests: a server clock that moves forward."""
import sys
import time
from datetime import timedelta

import pytest

from outreach import models


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch):
    """``clock(hours=..., minutes=...)`` moves the server's clocks forward: the cookie
    signature's (time.time) and the database timestamps' (``utcnow``, in every module that
    imported it)."""
    offset = {"s": 0.0}
    real_time, real_utcnow = time.time, models.utcnow

    def utcnow():
        return real_utcnow() + timedelta(seconds=offset["s"])
    monkeypatch.setattr(time, "time", lambda: real_time() + offset["s"])
    for name, module in list(sys.modules.items()):
        if name.startswith("outreach") and getattr(module, "utcnow", None) is real_utcnow:
            monkeypatch.setattr(module, "utcnow", utcnow)

    def forward(hours=0, minutes=0):
        offset["s"] += hours * 3600 + minutes * 60
    return forward
