"""Issue 17 on every surface: one cell, one published value; exact figures for an organisation
(and with DISCLOSURE_CONTROL=off); ratios from protected parts; a legend wherever figures are
shown."""
import io
import random
from collections import defaultdict

import pytest
from conftest import do_login
from disclosure_helpers import TEAMS, World, load_snapshot, make_history, random_spec
from openpyxl import load_workbook

from outreach.config import ConfigError, load


def _cells_by_atoms(world, client, specs):
    shown = defaultdict(set)
    for spec in specs:
        for code, atoms, text in world.run(client, spec):
            shown[(code, atoms)].add(str(text).replace("\u202f", ""))
    return shown


def test_the_same_cell_reads_the_same_through_every_query(app, client, login, tmp_path):
    rng = random.Random(5)
    world = make_history(app, 5, rng)
    login("manager@plan.demo")
    load_snapshot(app, world, tmp_path / "open.db")
    specs = [random_spec(world, rng) for _ in range(40)] + [{"surface": "open_data"}]
    shown = _cells_by_atoms(world, client, specs)
    repeated = [texts for texts in shown.values()]
    assert sum(1 for _ in repeated) > 20
    assert all(len(texts) == 1 for texts in repeated), [t for t in repeated if len(t) > 1][:5]


def _api(client, world, **args):
    body = client.get("/api/v1/indicators", query_string=args,
                      headers={"Authorization": f"Bearer {world.token}"}).get_json()
    return body, {g["key"]: g["value"] for g in body["items"][0].get("groups", [])}


def _month_args(world):
    return {"from": world.months[0].isoformat(), "to": world.months[-1].isoformat()[:8] + "28"}


def test_an_organisation_reads_its_own_figures_exactly_and_a_manager_protected_ones(
        app, client, login):
    world = make_history(app, 3, random.Random(3))
    truth = world.truth("contacts",
                        world.atoms("contacts", ["charonne_rue"], world.sectors, world.months))
    from outreach.extensions import db
    from outreach.models import User
    from outreach.security import new_api_token
    with app.app_context():
        supervisor = db.session.execute(
            db.select(User).filter_by(email="supervisor@charonne.demo")).scalar_one()
        token = new_api_token(supervisor, "own")
        db.session.commit()
    own = World(months=world.months, token=token)
    body, groups = _api(client, own, indicator="contacts", group_by="organisation",
                        **_month_args(world))
    assert body["suppression"]["applied"] is False and groups == {"Charonne": truth}
    body, groups = _api(client, world, indicator="contacts", group_by="organisation",
                        **_month_args(world))
    assert body["suppression"] == {"applied": True, "method": "cell-key perturbation",
                                   "threshold": 5, "max_noise": 2}
    assert groups["Charonne"] is None or abs(groups["Charonne"] - truth) <= 2


@pytest.mark.parametrize("app_config", [{"DISCLOSURE_CONTROL": "off"}])
def test_disclosure_control_off_gives_a_manager_exact_figures(app, client, login):
    world = make_history(app, 4, random.Random(4))
    body, groups = _api(client, world, indicator="contacts", group_by="team", **_month_args(world))
    assert body["suppression"]["applied"] is False
    for team in ("gaia_mobile", "charonne_rue", "aurore_est"):
        label = next(k for k, v in world.labels.items() if v == ("team", team))
        assert (groups[label] == world.truth(
            "contacts", world.atoms("contacts", [team], world.sectors, world.months)))


def test_production_refuses_to_turn_disclosure_control_off(tmp_path):
    secrets = {"ENV": "production", "SECRET_KEY": "x" * 40, "PSEUDONYM_KEY": "y" * 40}
    with pytest.raises(ConfigError, match="DISCLOSURE_CONTROL"):
        load(str(tmp_path), {**secrets, "DISCLOSURE_CONTROL": "off"})
    assert load(str(tmp_path), secrets)["DISCLOSURE_CONTROL"] == "on"


def test_ratios_are_computed_from_published_counts(app, client, login):
    world = make_history(app, 6, random.Random(6))
    args = {**_month_args(world), "indicator": ["share_with_code", "contacts"]}
    body = client.get("/api/v1/indicators", query_string=args,
                      headers={"Authorization": f"Bearer {world.token}"}).get_json()
    values = {i["indicator"]: i["value"] for i in body["items"]}
    contacts = world.truth("contacts",
                           world.atoms("contacts", list(TEAMS), world.sectors, world.months))
    assert abs(values["contacts"] - contacts) <= 2
    with_code = values["share_with_code"] * values["contacts"] / 100  # the published numerator
    assert abs(with_code - round(with_code)) < 0.01 and abs(round(with_code) - world.known) <= 2


def test_every_surface_states_what_was_done_to_the_numbers(app, client, login):
    world = make_history(app, 8, random.Random(8))
    login("manager@plan.demo")
    args = {"period": "custom", "from": world.months[0].isoformat()[:7],
            "to": world.months[-1].isoformat()[:7]}
    for url in ("/indicateurs", "/indicateurs/contacts", "/parcours"):
        page = client.get(url, query_string=args).get_data(as_text=True)
        assert 'id="disclosure-legend"' in page and "décalé d&#39;au plus 2" in page, url
    book = load_workbook(io.BytesIO(client.get("/export/indicateurs.xlsx", query_string=args).data))
    notes = {r[0]: r[1] for r in book["Définitions"].iter_rows(values_only=True) if r and r[0]}
    assert ("décalé d'au plus 2" in notes["Secret statistique"]
            and "« < 5 »" in notes["Secret statistique"])
    own = app.test_client()
    do_login(own, "supervisor@charonne.demo", "charonne-password")
    page = own.get("/indicateurs", query_string=args).get_data(as_text=True)
    assert "Chiffres exacts de votre organisation" in page

