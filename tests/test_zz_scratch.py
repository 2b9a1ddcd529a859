import collections
from export_helpers import seed_contacts
from test_exports_read_api import _token
from test_reference_cache import Statements
from conftest import do_login


def test_scratch(app, client):
    seed_contacts(app)
    headers = _token(app, "manager@plan.demo")
    api = app.test_client()
    for q in ["per_page=100", "group_by=team&per_page=10", "group_by=sector&per_page=10"]:
        api.get("/api/v1/indicators?" + q, headers=headers)
        with Statements(app) as seen:
            r = api.get("/api/v1/indicators?" + q, headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        print("\n=== API", q, len(seen))
        for s in seen:
            print("   ", " ".join(s.split())[:230])
    do_login(client, "manager@plan.demo")
    for url in ["/indicateurs", "/indicateurs/contacts", "/indicateurs/contacts?by=team", "/parcours", "/plan"]:
        client.get(url)
        with Statements(app) as seen:
            r = client.get(url)
        assert r.status_code == 200
        print("\n=== PAGE", url, len(seen))
        for s in seen:
            print("   ", " ".join(s.split())[:230])
