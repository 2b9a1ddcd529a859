"""Query arguments are the same everywhere: the same set sent to the read API, the pages (dashboard,
drill-down, funnel), the exports and the API lists is accepted by all or refused by all, naming the
same arguments (one parser: outreach.queryargs)."""
import html
import json
import re

import pytest
from test_exports_read_api import _token

# (arguments, the arguments a refusal names; empty: accepted)
CASES = [
    ({}, set()),
    ({"from": "2026-01", "to": "2026-03"}, set()),
    ({"from": "2026-01-15", "to": "2026-03-10"}, set()),
    ({"to": "2026-03"}, set()),
    ({"from": "2026-03-31"}, set()),
    ({"team": "aurore_nord", "sector": "stalingrad", "organisation": "aurore"}, set()),
    ({"provisional": "true", "from": "2026-11-02", "to": "2026-11-02"}, set()),
    ({"from": "2026-05", "to": "2026-01"}, {"from", "to"}),
    ({"from": "2026-03-10", "to": "2026-03-09"}, {"from", "to"}),
    ({"from": "2026-13"}, {"from"}),
    ({"to": "2026-02-30"}, {"to"}),
    ({"from": "03/2026"}, {"from"}),
    ({"from": "1999-12"}, {"from"}),
    ({"team": "nowhere"}, {"team"}),
    ({"team": "%00"}, {"team"}),
    ({"sector": "nowhere", "organisation": "nope", "team": "aurore_nord"},
     {"sector", "organisation"}),
    # the indicators only: period kinds and the bound on a period's length
    ({"period": "month", "month": "2026-03-15"}, set()),
    ({"period": "quarter", "month": "2026-02"}, set()),
    ({"period": "year", "year": "2025"}, set()),
    ({"period": "decade"}, {"period"}),
    ({"period": "month", "month": "mars"}, {"month"}),
    ({"period": "year", "year": "1850"}, {"year"}),
    ({"from": "2020-01", "to": "2026-12"}, {"from"}),
]
INDICATOR_ONLY = {"period", "month", "year"}


def _page_refusal(response):
    """The arguments a 400 page names (the list of errors of indicators/invalid.html)."""
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        return set()
    return set(re.findall(r"<li>(\w+) : ", response.get_data(as_text=True)))


def _json_refusal(response):
    assert response.status_code in (200, 400), (response.status_code,
                                                response.get_data(as_text=True))
    return set() if response.status_code == 200 else set(response.get_json()["errors"])


@pytest.mark.parametrize(("args", "named"), CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_the_same_arguments_are_accepted_or_refused_alike(app, client, login, args, named):
    manager = _token(app, "manager@plan.demo")
    supervisor = _token(app, "supervisor@aurore.demo")
    answers = {"api /indicators": _json_refusal(client.get("/api/v1/indicators", headers=manager,
                                                           query_string={
                                                               **args, "indicator": "contacts"}))}
    is_long = args.get("from") == "2020-01"
    # the lists have no period kinds and no length bound
    if not INDICATOR_ONLY & set(args) and not is_long:
        for url in ("/api/v1/shifts", "/api/v1/encounters", "/api/v1/referrals"):
            answers["api " + url] = _json_refusal(
                client.get(url, headers=supervisor, query_string=args))
    login("manager@plan.demo")
    for url in ("/indicateurs", "/indicateurs/contacts", "/parcours", "/export/indicateurs.csv",
                "/export/indicateurs/contacts.xlsx", "/export/parcours.csv"):
        answers[url] = _page_refusal(client.get(url, query_string=args))
    assert answers == dict.fromkeys(answers, named)


def test_pages_offer_codes_and_keep_them_in_their_links(app, client, login):
    login("manager@plan.demo")
    page = client.get("/indicateurs",
                      query_string={"team": "aurore_nord", "from": "2026-01-05", "to": "2026-03"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<option value="aurore_nord" selected>', text)
    assert re.search(r'<option value="stalingrad">', text)
    links = [html.unescape(h) for h in re.findall(r'href="(/export/indicateurs\.csv[^"]*)"', text)]
    assert links and "team=aurore_nord" in links[0]
    assert client.get(links[0]).status_code == 200


@pytest.mark.parametrize(("options", "ok", "named"), [
    (["--to", "2026-03"], True, ""), (["--to", "2026-03-31", "--from", "2026-01-02"], True, ""),
    (["--from", "2026-05", "--to", "2026-01"], False, "(to)"),
    (["--to", "2026-13"], False, "AAAA-MM")])
def test_export_sqlite_takes_the_same_dates(app, tmp_path, options, ok, named):
    result = app.test_cli_runner().invoke(
        args=["export-sqlite", str(tmp_path / "open.db"), *options])
    assert (result.exit_code == 0) is ok, result.output
    assert named in result.output


def test_an_indicator_code_holding_a_nul_byte_is_unknown_not_a_server_error(app, client):
    """PostgreSQL refuses NUL in a text parameter: the code is refused before it is asked."""
    manager = _token(app, "manager@plan.demo")
    response = client.get("/api/v1/indicators", headers=manager,
                          query_string={"indicator": ["contacts", "\x00"]})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert set(response.get_json()["errors"]) == {"indicator"}
