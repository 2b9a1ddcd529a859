"""One read is bounded: a period longer than READ_MAX_MONTHS, or an API answer of more than
READ_MAX_VALUES values, is refused with 400 and a message saying the limit, on the API, the pages
and the exports."""
import pytest
from test_exports_read_api import _token


@pytest.mark.parametrize("query", ["from=2000-01-01&group_by=month", "from=2000-01-01",
                                   "from=2019-01-01&to=2025-12-31"])
def test_the_api_refuses_a_period_over_the_limit(app, client, query):
    response = client.get("/api/v1/indicators?" + query, headers=_token(app, "manager@plan.demo"))
    assert response.status_code == 400
    message = response.get_json()["errors"]["from"]
    assert "Période trop longue" in message and "60 au plus" in message


def test_the_api_refuses_an_answer_over_the_size_limit_and_says_what_to_ask(app, client):
    headers = _token(app, "manager@plan.demo")
    # 60 months: allowed, but not for every indicator
    query = "from=2021-01-01&to=2025-12-31&group_by=month"
    response = client.get(f"/api/v1/indicators?{query}", headers=headers)
    assert response.status_code == 400
    assert "500 au plus" in response.get_json()["errors"]["per_page"]
    small = client.get(f"/api/v1/indicators?{query}&per_page=5", headers=headers)
    assert small.status_code == 200
    assert len(small.get_json()["items"]) == 5 and len(small.get_json()["items"][0]["groups"]) == 60


@pytest.mark.parametrize(
    "url", ["/indicateurs", "/parcours", "/export/indicateurs.csv", "/export/indicateurs.xlsx",
            "/export/parcours.xlsx"])
def test_pages_and_exports_refuse_a_period_over_the_limit(client, login, url):
    login("manager@plan.demo")
    too_long = client.get(url,
                          query_string={"period": "custom", "from": "2000-01", "to": "2025-12"})
    assert too_long.status_code == 400
    assert "Période trop longue" in too_long.get_data(as_text=True)
    five_years = client.get(url,
                            query_string={"period": "custom", "from": "2021-01", "to": "2025-12"})
    assert five_years.status_code == 200
