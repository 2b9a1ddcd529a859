"""Plan execution everywhere else (issue 20 item 6): the read API and its OpenAPI document, the plan
catalogue's import/export (statuses, milestones, budgets, places, estimates round-trip), and one
disclosure rule."""
import html
import io
from datetime import date

import pytest
import yaml
from conftest import do_login
from test_planexec_places import World, _one

from outreach.extensions import db
from outreach.indicators.catalogue import (
    current_plan,
    dump,
    install_plan,
    parse,
    to_csv,
)
from outreach.models import (
    ActionMilestone,
    ActionStatusChange,
    AuditEvent,
    BudgetLine,
    Organisation,
    PlaceCapacity,
    PlanAction,
    PopulationEstimate,
    RefItem,
    User,
)
from outreach.planexec import card
from outreach.planexec.measures import Period
from outreach.planexec.seed import BUDGETS


def _counts(app, model):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()


# --- one disclosure rule -------------------------------------------------------------

def test_equal_small_counts_of_other_stays_are_not_perturbed_alike(app):
    """Each month holds 9 completed stays of other persons: with the noise drawn from the cell's own
    rows, a reader who learns one month's true value learns nothing of the others' noise (a key per
    family gave every cell with the same true value the same published one, so the noise could be
    read off and subtracted)."""
    with app.app_context(), app.test_request_context():
        world = World()
        phase = _one(RefItem, kind="programme", code="phase")
        n = 0
        for month in range(1, 13):
            for _ in range(9):
                n += 1
                world.stay(world.person(1000 + n), phase, date(2023, month, 2),
                           date(2023, month, 20))
        db.session.commit()
        published = []
        for month in range(1, 13):
            section = card.places_section([phase],
                                          Period(date(2023, month, 1), date(2023, month, 28)))[0]
            published.append(section["completed"])
        assert len(set(published)) > 1, published
        # the same stays asked over a longer period (an empty month before) publish the same value
        stretched = card.places_section([phase], Period(date(2022, 12, 1), date(2023, 1, 28)))[0]
        assert stretched["completed"] == published[0]


def test_persons_reached_on_the_report_card_is_the_dashboards_published_file_active(app, client):
    do_login(client, "manager@plan.demo")
    on = card.today().replace(day=1)
    coverage = client.get(f"/api/v1/plan/coverage?on={on.isoformat()}").get_json()
    month = on.isoformat()[:7]
    values = client.get(
        f"/api/v1/indicators?from={on.isoformat()}&to={on.isoformat()}&indicator=file_active")
    items = [i for i in values.get_json()["items"] if i["indicator"] == "file_active"]
    # the demo catalogue shows the file active as an indicator: one published value for one cell
    if items:
        assert coverage["persons"]["value"] == items[0]["value"], month
    assert coverage["persons"]["suppressed"] or coverage["persons"]["value"] > 0


# --- the read API --------------------------------------------------------------------

def test_the_api_gives_statuses_on_a_past_date_as_the_page_counts_them(app, client):
    do_login(client, "manager@plan.demo")
    body = client.get("/api/v1/plan/progress?on=2021-06-30").get_json()
    with app.app_context(), app.test_request_context():
        expected = card.total_counts(card.progress(card.plan_outline(), date(2021, 6, 30)))
    assert body["counts"] == expected
    assert sum(body["counts"].values()) == sum(len(a["actions"]) for a in body["axes"])
    actions = {a["number"]: a for axis in body["axes"] for a in axis["actions"]}
    assert actions["2.2"]["status"] == "partly_done" and actions["2.2"]["since"] == "2021-06-01"
    late = [m["title"] for m in actions["2.3"]["late_milestones"]]
    assert late == ["Signer une convention avec un bailleur social"]
    assert client.get("/api/v1/plan/progress?on=30/06/2021").status_code == 400


def test_the_api_budgets_are_exact_euros_per_funder(app, client):
    do_login(client, "manager@plan.demo")
    body = client.get("/api/v1/plan/budgets?from=2019-01-01&to=2021-12-31").get_json()
    drihl = next(f for f in body["by_funder"] if f["funder"] == "etat_drihl")
    assert drihl["planned"] == sum(b[3] for b in BUDGETS if b[1] == "etat_drihl")
    assert drihl["spent"] == sum(b[5] for b in BUDGETS if b[1] == "etat_drihl") > drihl["planned"]
    assert body["total"]["committed"] == sum(b[4] for b in BUDGETS)
    assert len(body["lines"]) == len(BUDGETS)


def test_the_api_places_withhold_small_person_counts_but_not_places(app, client):
    with app.app_context():
        world = World()
        siao = _one(RefItem, kind="programme", code="siao_115")
        db.session.add(PlaceCapacity(programme=siao, organisation=_one(Organisation, code="aurore"),
                                     starts_on=date(2024, 1, 1), places=37,
                                     recorded_by=_one(User, email="manager@plan.demo")))
        world.stay(world.person(1), siao, date(2024, 1, 10), date(2024, 1, 12))
        db.session.commit()
    do_login(client, "manager@plan.demo")
    body = client.get("/api/v1/plan/places?from=2024-01-01&to=2024-01-31").get_json()
    row = next(p for p in body["programmes"] if p["programme"] == "siao_115")
    assert row["place_nights"] == 31 * 37 and row["places_end"] == 37
    assert row["person_nights"] == {"value": None, "shown": "< 5", "suppressed": True}
    assert row["occupancy_rate"] is None and row["median_days"] is None
    assert body["suppression"]["applied"] is True


@pytest.mark.parametrize("email", ["worker@aurore.demo", "supervisor@aurore.demo"])
def test_field_roles_cannot_read_plan_execution_from_the_api(client, email):
    do_login(client, email)
    for path in ("progress", "budgets", "places", "coverage"):
        assert client.get(f"/api/v1/plan/{path}").status_code == 403, path


def test_the_openapi_document_describes_every_plan_execution_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/plan/")}
    assert routes == {"/api/v1/plan/progress", "/api/v1/plan/budgets", "/api/v1/plan/places",
                      "/api/v1/plan/coverage"}
    for route in routes:
        get = document["paths"][route]["get"]
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        ref = schema["$ref"].rsplit("/", 1)[1]
        assert ref in document["components"]["schemas"]


# --- the catalogue's import and export ------------------------------------------------

def _execution(app):
    """Everything plan execution holds, as comparable rows (no ids)."""
    with app.app_context():
        rows = {}
        for model, columns in ((ActionStatusChange,
                                ("status", "effective_on", "reason", "evidence", "recorded_by_id")),
                               (ActionMilestone, ("title", "created_on", "due_on", "done_on")),
                               (BudgetLine, ("funder_id", "year", "planned_cents",
                                             "committed_cents", "spent_cents")),
                               (PlaceCapacity,
                                ("programme_id", "organisation_id", "starts_on", "places", "note")),
                               (PopulationEstimate,
                                ("estimated_on", "area", "low", "high", "source"))):
            query = db.select(*(getattr(model, c) for c in columns))
            if hasattr(model, "action_id"):
                query = query.add_columns(PlanAction.number).join(PlanAction)
            rows[model.__tablename__] = sorted(map(tuple, db.session.execute(query).all()),
                                               key=repr)
        return rows


def _upload(client, text, name):
    return client.post("/plan/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_a_supervisor_downloads_no_email_address_and_an_import_keeps_who_recorded_each_status(
        app, client):
    with app.app_context():
        users = db.session.execute(db.select(User.email)).scalars().all()
        change = db.session.execute(
            db.select(ActionStatusChange).order_by(ActionStatusChange.id)).scalars().first()
        change.recorded_by = _one(User, email="admin@gaia.demo")  # someone other than the importer
        db.session.commit()
    do_login(client, "supervisor@aurore.demo")
    text = client.get("/plan/export/yaml").get_data(as_text=True)
    history = [c for axis in yaml.safe_load(text)["plan"]["axes"] for a in axis["actions"]
               for c in a["status_history"]]
    assert history and all(set(c) == {"status", "effective_on", "reason", "evidence"}
                           for c in history)
    assert not [email for email in users if email in text]
    before = _execution(app)
    client.post("/deconnexion")
    do_login(client, "manager@plan.demo")
    response = _upload(client, text, "plan.yaml")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    # every status keeps its recorder: admin@gaia.demo's stays theirs
    assert _execution(app) == before
    with app.app_context():
        recorders = db.session.execute(
            db.select(User.email).join(ActionStatusChange.recorded_by)).scalars().all()
        assert recorders.count("admin@gaia.demo") == 1


def test_an_older_file_naming_the_recorder_by_email_still_imports(app, client):
    do_login(client, "manager@plan.demo")
    document = yaml.safe_load(client.get("/plan/export/yaml").get_data(as_text=True))
    action = document["plan"]["axes"][0]["actions"][0]
    action["status_history"] = [
        {"status": "started", "effective_on": "2022-03-04", "reason": "Ancien fichier",
         "evidence": "", "recorded_by": "admin@gaia.demo"}]
    response = _upload(client, yaml.safe_dump(document, allow_unicode=True), "plan.yaml")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        row = db.session.execute(
            db.select(ActionStatusChange).filter_by(reason="Ancien fichier")).scalar_one()
        assert row.recorded_by.email == "admin@gaia.demo"


def test_the_yaml_export_imports_back_with_every_status_milestone_budget_place_and_estimate(
        app, client):
    before = _execution(app)
    assert all(before.values()), {k: len(v) for k, v in before.items()}
    do_login(client, "manager@plan.demo")
    text = client.get("/plan/export/yaml").get_data(as_text=True)
    document = yaml.safe_load(text)
    assert document["plan"]["places"] and document["plan"]["estimates"]
    action = next(a for axis in document["plan"]["axes"] for a in axis["actions"]
                  if a["number"] == "2.1")
    assert action["status"] == "done" and action["budgets"][1]["spent"] == 7_200_000
    for _ in range(2):  # twice: the same file changes nothing the second time
        response = _upload(client, text, "plan.yaml")
        assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
        assert _execution(app) == before
    with app.app_context():
        audit = db.session.execute(db.select(AuditEvent).filter_by(action="plan_imported")
                                   .order_by(AuditEvent.id.desc())).scalars().first()
        assert "statuses" in audit.after and audit.details["places_added"] == 0


def test_an_indicators_only_csv_keeps_the_actions_history(app, client):
    before = _execution(app)
    do_login(client, "manager@plan.demo")
    text = client.get("/plan/export/csv").get_data(as_text=True)
    assert _upload(client, text, "plan.csv").status_code == 302
    assert _execution(app) == before


def test_an_edited_history_in_the_file_replaces_the_actions_history(app):
    with app.app_context(), app.test_request_context():
        document = dump(current_plan())
        action = next(a for axis in document["plan"]["axes"] for a in axis["actions"]
                      if a["number"] == "4.1")
        action["status_history"] = [
            {"status": "started", "effective_on": "2020-02-01", "reason": "Lancement"},
            {"status": "done", "effective_on": "2021-05-01", "reason": "Rapport rendu"}]
        action["budgets"] = [
            {"funder": "ars", "year": 2021, "planned": "12 000,50 €", "committed": 1000,
             "spent": 999.99}]
        install_plan(yaml.safe_load(yaml.safe_dump(document, allow_unicode=True)))
        db.session.commit()
        plan = card.plan_outline()
        cards = {c.action.number: c for axis in card.progress(plan, date(2021, 6, 30))
                 for c in axis.actions}
        assert cards["4.1"].status == "done"
        line = db.session.execute(
            db.select(BudgetLine).join(PlanAction).filter(PlanAction.number == "4.1")
            ).scalar_one()
        assert (line.planned_cents, line.committed_cents,
                line.spent_cents) == (1_200_050, 100_000, 99_999)


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.__setitem__("budgets", [{"funder": "fondation_x", "year": 2021, "planned": 1}]),
     "financeur « fondation_x » inconnu"),
    (lambda a: a.__setitem__("budgets", [{"funder": "ars", "year": 2021, "planned": "1.234,50"}]),
     "montant illisible"),
    (lambda a: a.__setitem__("budgets", [{"funder": "ars", "year": 2021, "spent": "-5"}]),
     "négatif"),
    (lambda a: a.__setitem__("milestones",
                             [{"title": "x", "created_on": "2021-05-01", "due_on": "2021-01-01"}]),
     "une date précède sa création"),
    (lambda a: a.__setitem__("status_history", [{"status": "finished", "effective_on": "2021-01-01",
                                                 "reason": "x"}]), "statut « finished » inconnu"),
    (lambda a: a.__setitem__("status_history", "done"), "doit être une liste"),
])
def test_a_bad_execution_value_in_the_catalogue_is_refused_in_french_and_nothing_is_written(
        app, client, change,
       message):
    before = _execution(app)
    with app.app_context(), app.test_request_context():
        document = dump(current_plan())
    action = next(a for axis in document["plan"]["axes"] for a in axis["actions"]
                  if a["number"] == "1.1")
    change(action)
    do_login(client, "manager@plan.demo")
    response = _upload(client, yaml.safe_dump(document, allow_unicode=True), "plan.yaml")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _execution(app) == before


def test_negative_places_in_the_catalogue_are_refused(app, client):
    with app.app_context(), app.test_request_context():
        document = dump(current_plan())
    document["plan"]["places"].append(
        {"programme": "assore", "organisation": "aurore", "starts_on": "2023-01-01",
         "places": -3})
    do_login(client, "manager@plan.demo")
    places = _counts(app, PlaceCapacity)
    response = _upload(client, yaml.safe_dump(document, allow_unicode=True), "plan.yaml")
    assert response.status_code == 400 and "négative" in response.get_data(as_text=True)
    assert _counts(app, PlaceCapacity) == places


def test_the_csv_status_column_is_the_current_status(app):
    with app.app_context(), app.test_request_context():
        text = to_csv(current_plan())
        rows = parse(text, "plan.csv")["plan"]["axes"]
        statuses = {a["number"]: a["status"] for axis in rows for a in axis["actions"]}
        assert (statuses["2.1"] == "done" and statuses["2.3"] == "abandoned"
                and statuses["4.2"] == "not_started")


# --- exports and open data -----------------------------------------------------------

def test_the_report_card_downloads_as_csv_with_every_table_and_is_audited(app, client):
    do_login(client, "manager@plan.demo")
    response = client.get("/execution/tableau.csv?from=2021-01-01&to=2021-12-31")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    for title in ("Actions", "Statuts", "Budget", "Places", "Occupation mensuelle", "Couverture",
                  "définitions"):
        assert f"\n{title};" in text, title
    # 2021: spent far over the initial commitment
    assert "\nBudget;État / DRIHL;1500000;8200000;7900000" in text
    assert "\nActions;2;2.3;Hébergement pérenne en aval;Abandonnée;2021-02-01;" in text
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="export.plan_card")).scalar_one()
        assert event.details["format"] == "csv"
    assert client.get("/execution/tableau.pdf").status_code == 404


def test_the_open_data_file_has_places_statuses_and_budgets_as_entered_and_protected_stays(
        app, tmp_path):
    import sqlite_utils
    path = str(tmp_path / "open.db")
    result = app.test_cli_runner().invoke(
        args=["export-sqlite", path, "--from", "2021-01", "--to", "2021-12"])
    assert result.exit_code == 0, result.output
    database = sqlite_utils.Database(path)
    budget = list(database["plan_budget"].rows)
    assert sum(r["spent"] for r in budget) == sum(b[5] for b in BUDGETS)
    statuses = {r["action"]: r["status"] for r in database["plan_action_status"].rows}
    assert statuses["2.2"] == "partly_done" and statuses["2.3"] == "abandoned"
    months = [r for r in database["plan_places_by_month"].rows if r["programme"] == "assore"]
    assert (len(months) == 12 and months[0]["places"] == 450
            and months[0]["place_nights"] == 31 * 450)
    stays = list(database["plan_stays"].rows)
    assert all(r["value"] is None or r["value"] >= 5 for r in stays)
    assert all((r["value"] is None) == r["shown"].startswith("<") for r in stays)
    coverage = next(database["plan_coverage"].rows)
    assert coverage["estimate_low"] == 700 and coverage["estimate_high"] == 800
    described = {(r["table_name"], r["column_name"]) for r in database["_descriptions"].rows}
    assert ("plan_places_by_month", "nights_used") in described
