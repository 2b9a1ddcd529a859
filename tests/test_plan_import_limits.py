"""The plan catalogue import is bounded like the contact import: size, aliases, entries; never a
500."""
import io
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
def test_hostile_or_malformed_plans_are_refused_before_any_expansion(app, client, login, text,
                                                                    status, message):
    before = _plans(app)
    login("manager@plan.demo")
    # refused before any expansion: memory, not the clock (a busy machine is slow)
    tracemalloc.start()
    try:
        response = _post(client, text)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20
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
