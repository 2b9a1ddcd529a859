"""Read API: plan catalogue and indicator values, token auth, suppression as for the caller's
role."""
import re

import pytest
from export_helpers import seed_contacts
from sqlalchemy import select

from outreach.extensions import db
from outreach.models import Indicator, User
from outreach.security import new_api_token


def _token(app, email):
    with app.app_context():
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one()
        clear = new_api_token(user, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


def test_plan_catalogue_for_a_manager_token(app, client):
    response = client.get("/api/v1/plan", headers=_token(app, "manager@plan.demo"))
    assert response.status_code == 200
    plan = response.get_json()["plan"]
    assert plan["axes"] and plan["axes"][0]["actions"][0]["indicators"][0]["code"]
    indicators = {i["code"]: i for a in plan["axes"] for x in a["actions"] for i in x["indicators"]}
    with app.app_context():
        stored = {i.code: i for i in db.session.execute(select(Indicator)).scalars()}
        for code, item in stored.items():  # the definition an integrator needs to recompute a value
            assert (indicators[code]["numerator"], indicators[code]["numerator_filters"],
                    indicators[code]["denominator"], indicators[code]["denominator_filters"],
                    indicators[code]["factor"]) == (item.numerator, item.numerator_filters or {},
                                                    item.denominator,
                                                     item.denominator_filters or {}, item.factor)
    assert any(i["numerator_filters"] for i in indicators.values())


def test_workers_get_403_and_anonymous_401(app, client):
    assert client.get("/api/v1/indicators").status_code == 401
    assert client.get("/api/v1/indicators",
                      headers=_token(app, "worker@aurore.demo")).status_code == 403


def test_manager_values_are_suppressed_by_organisation(app, client):
    day = seed_contacts(app)
    month = day.replace(day=1).isoformat()
    response = client.get("/api/v1/indicators", headers=_token(app, "manager@plan.demo"),
                          query_string={
        "from": month, "to": day.isoformat(), "group_by": "organisation", "indicator": "contacts"})
    body = response.get_json()
    assert response.status_code == 200 and body["suppression"]["applied"] is True
    item = body["items"][0]
    assert item["indicator"] == "contacts" and abs(item["value"]
                                                   - 43) <= body["suppression"]["max_noise"]
    gaia = next(g for g in item["groups"] if g["key"] == "Gaïa")
    assert gaia == {"key": "Gaïa", "value": None, "shown": "< 5", "suppressed": True}


def test_supervisor_reads_own_organisation_unsuppressed(app, client):
    day = seed_contacts(app)
    response = client.get("/api/v1/indicators", headers=_token(app, "supervisor@aurore.demo"),
                          query_string={
        "from": day.replace(day=1).isoformat(), "to": day.isoformat(), "indicator": "contacts",
        "organisation": "gaia"})
    body = response.get_json()
    assert body["suppression"]["applied"] is False and body["items"][0]["value"] in (0, None)
    own = client.get("/api/v1/indicators", headers=_token(app, "supervisor@aurore.demo"),
                     query_string={
        "from": day.replace(day=1).isoformat(), "to": day.isoformat(),
        "indicator": "contacts"}).get_json()
    assert own["items"][0]["value"] == 40


@pytest.mark.parametrize(
    "args", [{"from": "nope"}, {"group_by": "person"}, {"per_page": "0"}, {"page": "x"},
             {"from": "1990-01-01"}, {"team": "nowhere"}, {"team": "%00"},
             {"indicator": "nope"}, {"period": "decade"}])
def test_bad_arguments_are_400_with_the_field(app, client, args):
    response = client.get("/api/v1/indicators", headers=_token(app, "manager@plan.demo"),
                          query_string=args)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == set(args)


def test_the_period_used_is_returned_in_whole_months(app, client):
    headers = _token(app, "manager@plan.demo")
    body = client.get("/api/v1/indicators?from=2001-01-20&to=2001-06-15&per_page=1",
                      headers=headers).get_json()
    assert body["period"] == {"from": "2001-01-01", "to": "2001-06-30"}
    body = client.get("/api/v1/indicators?from=2001-01&to=2001-06&per_page=1",
                      headers=headers).get_json()
    assert body["period"] == {"from": "2001-01-01", "to": "2001-06-30"}
    body = client.get("/api/v1/indicators?to=2001-06&per_page=1", headers=headers).get_json()
    assert body["period"] == {"from": "2000-07-01", "to": "2001-06-30"}


def test_to_before_from_names_both_and_errors_speak_the_callers_language(app, client):
    headers = _token(app, "manager@plan.demo")
    french = client.get("/api/v1/indicators?from=2026-05&to=2026-01", headers=headers)
    assert french.status_code == 400 and set(french.get_json()["errors"]) == {"from", "to"}
    assert "doit suivre son début" in french.get_json()["errors"]["to"]
    english = client.get("/api/v1/indicators?team=nowhere",
                         headers={**headers, "Accept-Language": "en"})
    assert english.status_code == 400 and english.get_json()["errors"] == {"team": "Unknown code: "
                                                                                   "“nowhere”."}
    refused = client.get("/api/v1/indicators", headers={"Accept-Language": "en"})
    assert refused.status_code == 401 and refused.get_json() == {"error": "authentication required"}


def test_pagination(app, client):
    headers = _token(app, "manager@plan.demo")
    first = client.get("/api/v1/indicators?per_page=2&page=1", headers=headers).get_json()
    second = client.get("/api/v1/indicators?per_page=2&page=2", headers=headers).get_json()
    assert len(first["items"]) == 2 and first["total"] > 2
    assert first["items"][0]["indicator"] != second["items"][0]["indicator"]


# --- the OpenAPI document --------------------------------------------------------

def test_every_api_route_is_documented_and_examples_match_their_schemas(app, client):
    import jsonschema_rs  # installed with schemathesis
    document = client.get("/api/v1/openapi.json").get_json()
    # Werkzeug writes <shift_id>, OpenAPI writes {shift_id}
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/")} - {"/api/v1/openapi.json"}
    assert routes <= set(document["paths"])
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        if "example" in schema:
            document_schema = {"components": {"schemas": schemas}, **schema}
            jsonschema_rs.validate(document_schema, schema["example"])


@pytest.mark.slow
# the lists answer a supervisor
@pytest.mark.parametrize("email", ["manager@plan.demo", "supervisor@aurore.demo"])
def test_schemathesis_finds_no_failure_over_the_whole_document(app, email):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import ignored_auth
    headers = _token(app, email)
    seed_contacts(app)
    from schemathesis.config import SchemathesisConfig
    # 400 answers a well-formed read over the documented bounds (READ_MAX_MONTHS, READ_MAX_VALUES)
    # or naming an unknown code, 422 a write refused by a rule across fields or records (an unknown
    # shift, a shift not closed, the contact contract), which JSON Schema cannot express:
    # schema-valid data may get them, with their message
    config = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429",
                              "5xx"]}}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.path, case.query)
            # our valid token replaces the generated credentials, hence ignored_auth is not
            # applicable
            case.validate_response(response, excluded_checks=[ignored_auth])
        check()
