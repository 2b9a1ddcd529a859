"""Dashboard, drill-down, funnel and catalogue pages as managers and supervisors see them."""
import io
from datetime import date

import pytest
import yaml
from test_indicators_measures import world  # noqa: F401 (fixture)

from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators.catalogue import current_plan, to_csv, to_yaml
from outreach.models import Indicator

MARCH = "period=month&month=2026-03"


def test_manager_sees_every_organisation_with_small_counts_hidden(
        client, login, world):  # noqa: F811
    login("manager@plan.demo")
    page = client.get(f"/indicateurs?{MARCH}").get_data(as_text=True)
    assert "Renforcer les maraudes" in page
    assert "&lt; 5" in page  # 3 distinct persons, 4 shifts: hidden from a plan manager
    assert "<script>" not in page  # CSP: no inline script


def test_supervisor_sees_own_organisation_in_clear(client, login, world):  # noqa: F811
    login("supervisor@aurore.demo")
    response = client.get(f"/indicateurs/distinct_persons?{MARCH}&by=team")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Maraude Nord" in page and "Équipe mobile Gaïa" not in page
    forced = client.get(f"/indicateurs/contacts?{MARCH}&by=organisation&organisation=gaia")
    assert forced.status_code == 200 and "Gaïa" not in forced.get_data(as_text=True)


def test_drill_down_by_every_dimension_and_the_funnel(client, login, world):  # noqa: F811
    login("manager@plan.demo")
    for by in ("month", "team", "sector", "organisation"):
        assert client.get(f"/indicateurs/contacts?{MARCH}&by={by}").status_code == 200
    funnel = client.get(f"/parcours?{MARCH}").get_data(as_text=True)
    assert "ASSORE" in funnel and "faute de place" in funnel


def test_bad_period_is_a_400_naming_the_field(client, login):
    login("manager@plan.demo")
    response = client.get("/indicateurs?period=custom&from=2026-05&to=2026-01")
    assert response.status_code == 400
    assert "to" in response.get_data(as_text=True)
    assert client.get("/indicateurs/contacts?by=pays").status_code == 400
    assert client.get("/indicateurs/nope").status_code == 404


def test_workers_cannot_see_indicators(client, login):
    login("worker@aurore.demo")
    assert client.get("/indicateurs").status_code == 403


def test_catalogue_round_trips_through_yaml_and_csv(ctx):
    plan = current_plan()
    assert plan.is_illustrative and len(plan.axes) == 4
    codes = sorted(db.session.execute(db.select(Indicator.code)).scalars())
    text_csv, text_yaml = to_csv(plan), to_yaml(plan)
    from outreach.indicators.catalogue import install_plan, parse
    install_plan(parse(text_csv, "plan.csv"))
    db.session.commit()
    assert sorted(db.session.execute(db.select(Indicator.code)).scalars()) == codes
    install_plan(parse(text_yaml, "plan.yaml"))
    db.session.commit()
    assert yaml.safe_load(to_yaml(current_plan())) == yaml.safe_load(text_yaml)


def test_manager_uploads_a_plan_and_bad_files_are_refused_with_the_line(client, login, ctx):
    login("manager@plan.demo")
    csv_text = to_csv(current_plan()).replace(";rencontres;contacts;",
                                              ";rencontres;contacts_everywhere;", 1)
    response = client.post("/plan/import",
                           data={"file": (io.BytesIO(csv_text.encode()), "plan.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert ("ligne" in response.get_data(as_text=True)
            and "inconnue" in response.get_data(as_text=True))
    good = "plan:\n  code: officiel\n  title: Plan officiel\n  axes:\n  - number: '1'\n" \
           "    title: Axe\n    actions:\n    - number: '1.1'\n      title: Maraudes\n" \
           "      indicators:\n      - {code: c1, name: Rencontres, numerator: contacts}\n"
    response = client.post("/plan/import", data={"file": (io.BytesIO(good.encode()), "plan.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Plan officiel" in client.get("/plan").get_data(as_text=True)


def test_cli_exports_and_imports_the_plan(app, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "plan.csv"
    result = runner.invoke(args=["export-plan", str(target)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import-plan", str(target)])
    assert result.exit_code == 0 and "indicators" in result.output
    assert runner.invoke(args=["refresh-rollups"]).exit_code == 0


@pytest.mark.parametrize("args", ["period=year&year=2026", "period=quarter&month=2026-02",
                                  "period=custom&from=2025-01&to=2026-06&provisional=1", ""])
def test_every_period_renders(client, login, world, args):  # noqa: F811
    login("manager@plan.demo")
    assert client.get(f"/indicateurs?{args}").status_code == 200
    assert local_today()


def _shifts_indicator_with_a_target():
    from outreach.models import IndicatorTarget, PlanAction
    action = db.session.execute(db.select(PlanAction)).scalars().first()
    indicator = Indicator(action_id=action.id, code="test_shifts", name="Maraudes (test)",
                          numerator="shifts", factor=1, direction="higher")
    indicator.targets.append(
        IndicatorTarget(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31), value=8))
    db.session.add(indicator)
    db.session.commit()
    return indicator


def test_a_hidden_value_shows_no_share_change_or_status(world):  # noqa: F811
    """4 shifts in March (0 in February): "< 5" for a plan manager, and neither 50 % of a target of
    8 nor "+4" against February may give the count away; a supervisor sees hers in clear (3
    shifts)."""
    from outreach.indicators import services
    from outreach.indicators.suppression import Hidden
    from outreach.models import User
    indicator = _shifts_indicator_with_a_target()
    period = services.Period(date(2026, 3, 1), date(2026, 3, 1), "month")
    users = {u.email: u for u in db.session.execute(db.select(User)).scalars()}
    hidden = services.Dashboard(period, {}, users["manager@plan.demo"]).row(indicator)
    assert isinstance(hidden["value"], Hidden)
    assert hidden["share"] is None and hidden["change"] is None and hidden["status"] == ""
    assert all(v is None or isinstance(v, Hidden) or v == 0 for v in hidden["series"])
    clear = services.Dashboard(period,
                               {"organisation_id": users["supervisor@aurore.demo"].organisation_id},
                               users["supervisor@aurore.demo"]).row(indicator)
    assert (clear["value"] == 3 and clear["share"] == 37.5 and clear["change"] == 3
            and clear["status"] == "bad")


def _test_row(client):
    page = client.get(f"/indicateurs?{MARCH}").get_data(as_text=True)
    row = page[page.index("Maraudes (test)"):]
    return row[:row.index("</tr>")]


def test_the_dashboard_page_hides_the_share_of_a_hidden_value(
        app, client, login, world):  # noqa: F811
    from conftest import do_login
    _shifts_indicator_with_a_target()
    login("manager@plan.demo")
    row = _test_row(client)
    assert "&lt; 5" in row and "50\xa0%" not in row and "+4" not in row
    from flask import g
    g.pop("_login_user", None)  # the test's app context outlives requests: drop the cached user
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    row = _test_row(supervisor)
    assert "38\xa0%" in row and "+3" in row


def test_charts_escape_their_labels():
    from outreach.indicators.charts import bars, sparkline
    spark = str(sparkline([1, 2, None, 4], label='<script>"x"</script>'))
    assert "<script>" not in spark and "&lt;script&gt;" in spark and spark.count("<polyline") == 1
    drawn = str(bars([("a", 2), ("b", 4)], label="a<b"))
    assert "a&lt;b" in drawn and drawn.count("<rect") == 2 and 'width="320.0"' in drawn
