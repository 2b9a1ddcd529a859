"""The plan catalogue import is bounded like the contact import: size, aliases, entries; never a
500."""
import io
import sys
import tracemalloc

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.indicators.catalogue import current_plan, install_plan, parse, to_csv
from outreach.models import Indicator, Plan

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)) + \
    "plan: {code: p, title: t, axes: *i}\n"


def _post(client, text, name="plan.yaml"):
    return client.post("/plan/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def _plans(app):
    with app.app_context():
        return db.session.execute(select(Plan.code)).scalars().all()


@pytest.mark.parametrize(("text", "status", "message"), [
    (LAUGHS, 400, "alias"),
    ("plan: {code: p, title: t, axes: nope}\n", 400, "axes"),
    ("plan: {code: p, title: t, axes: [{number: '1', actions: [1, 2]}]}\n", 400, "actions"),
    ("plan: {code: p, title: t}\n#" + "x" * 2_100_000, 413, "caractères"),
    ("plan:\n  code: p\n  title: t\n  axes:\n  - number: '1'\n    actions:\n    - number: '1.1'\n"
     "      indicators:\n" + "      - {code: c, name: n, numerator: contacts}\n" * 2_001, 413,
     "indicateurs"),
])
def test_hostile_or_malformed_plans_are_refused_without_expanding(app, client, login, text, status,
                                                                 message):
    """Refused before the document is walked: the request's Python calls and peak memory stay
    bounded (an alias bomb walked would be 9^9 nodes). Bounds that do not depend on the machine's
    speed; how fast lives in ``make bench``."""
    before = _plans(app)
    login("manager@plan.demo")
    calls, limit = [0], 2_000_000

    def count(_frame, event, _arg):
        if event == "call":
            calls[0] += 1
            if calls[0] >= limit:
                raise RuntimeError("the import walks the document")  # fail now, not after 9^9 nodes

    tracemalloc.start()
    sys.setprofile(count)
    try:
        response = _post(client, text)
    finally:
        sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert calls[0] < limit, calls
    assert peak < 16_000_000 + 10 * len(text), peak
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _plans(app) == before


def test_the_neutralised_csv_export_imports_back_unchanged(app):
    with app.app_context(), app.test_request_context():
        indicator = db.session.execute(select(Indicator)).scalars().first()
        indicator.name = "-2 % de refus"
        db.session.commit()
        install_plan(parse(to_csv(current_plan()), "plan.csv"))
        db.session.commit()
        stored = db.session.execute(select(Indicator).filter_by(code=indicator.code)).scalar_one()
        assert stored.name == "-2 % de refus"
