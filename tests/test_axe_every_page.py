"""axe-core on every HTML page of every role (walking app.url_map with real arguments over a year
of demo history), in the light and the dark colour scheme: no violation."""
import pytest
from conftest import DEMO_PASSWORD
from test_access import DEMO_BY_ROLE
from test_browser_foundation import axe_violations
from test_labels_pages import make_history, page_urls

pytestmark = pytest.mark.browser


@pytest.fixture
def urls(live_app):
    values = make_history(live_app)
    return [url for _, url in page_urls(live_app, values)]


def _html_pages(app, urls, email):
    """The URLs that answer this user with an HTML page (exports and downloads left out)."""
    client = app.test_client()
    client.post("/connexion", data={"email": email, "password": DEMO_PASSWORD,
                                    "csrf_token": _token(client)})
    return [url for url in urls
            if (r := client.get(url)).status_code == 200 and r.mimetype == "text/html"]


def _token(client):
    import re
    html = client.get("/connexion").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _login(page, email):
    page.goto("/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


@pytest.mark.parametrize("role", list(DEMO_BY_ROLE))
def test_every_page_of_every_role_has_no_axe_violation_light_and_dark(page, live_app, urls, role):
    pages = _html_pages(live_app, urls, DEMO_BY_ROLE[role])
    _login(page, DEMO_BY_ROLE[role])
    found = {}
    for url in pages:
        page.goto(url)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            violations = axe_violations(page)
            if violations:
                found[f"{url} ({scheme})"] = violations
    assert len(pages) >= 4
    assert found == {}
