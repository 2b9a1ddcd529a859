"""``next`` after login and after a language change: only a path of this site, whatever the
encoding tricks; and the smaller protocol points: HSTS and a Secure ``lang`` cookie in
production, ``Allow`` on a 405."""
from urllib.parse import quote, urlsplit

import pytest
from test_privacy_cookies import production_app  # noqa: F401 (fixture)

from outreach.seed import DEMO_PASSWORD

# The usual bypass corpus, as sent in the query string (already percent-encoded where it says so).
BYPASSES = [
    "//evil.example/", "///evil.example/", "////evil.example", "/%09/evil.example/",
    "/%0d%0a/evil.example",
    "/%0a/evil.example", "/%0D/evil.example", "%0d%0aLocation:%20https://evil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "/\\evil.example", "/%5Cevil.example", "\\\\evil.example", "/%5C%5Cevil.example",
    "%2F%2Fevil.example",
    "https://evil.example", "http:evil.example", "https:/evil.example", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,x", "evil.example", "@evil.example", "//@evil.example",
    "https://outreach.example@evil.example", "//outreach.example@evil.example", "/%20/evil.example",
    "/%E3%80%80/evil.example", "/%00/evil.example", "%20//evil.example", " //evil.example",
    "/ /evil.example",
]


def _location(response):
    return response.headers.get("Location", "")


def _stays_here(location):
    """What a browser would do with the Location: strip tabs/newlines, read backslashes as
    slashes."""
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").replace("\\", "/")
    parts = urlsplit(cleaned)
    return (not parts.scheme and not parts.netloc and cleaned.startswith("/")
            and not cleaned.startswith("//"))


@pytest.mark.parametrize("target", BYPASSES)
def test_language_change_never_leaves_the_site(client, target):
    response = client.get("/langue/fr?next=" + target)
    assert response.status_code == 302, target
    assert (_stays_here(_location(response))
            and _location(response) == "/"), (target, _location(response))


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_leaves_the_site(client, target):
    response = client.post("/connexion?next=" + target,
                           data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD})
    assert response.status_code == 302, target
    assert (_stays_here(_location(response))
            and _location(response) == "/maraude"), (target, _location(response))


@pytest.mark.parametrize(
    "target", ["/orientations/", "/maraude?x=1&y=%2F%2Fz", "/export/indicateurs.csv?by=month"])
def test_a_path_of_the_site_is_followed(client, target):
    response = client.post("/connexion?next=" + quote(target, safe=""),
                           data={"email": "worker@aurore.demo", "password": DEMO_PASSWORD})
    assert _location(response) == target
    assert _location(client.get("/langue/en?next=" + quote(target, safe=""))) == target


def test_safe_next_refuses_decoded_tricks():
    from outreach.security import safe_next
    for target in ("/\t/evil.example", "/\r\n/evil.example", "/\\evil.example",
                   "/\u2028/evil.example", None, ""):
        assert safe_next(target) is None, repr(target)
    assert safe_next("/maraude?next=/x") == "/maraude?next=/x"


def test_method_not_allowed_says_which_methods_are(client):
    response = client.delete("/connexion")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_hsts_and_a_secure_language_cookie_in_production(production_app):  # noqa: F811
    client = production_app.test_client()
    response = client.get("/langue/en", base_url="https://outreach.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_no_hsts_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/connexion").headers
