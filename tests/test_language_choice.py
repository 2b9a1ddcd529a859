"""A page's language: the one picked with /langue (a cookie), else the browser's Accept-Language,
else French, as the API already did."""
import pytest


@pytest.mark.parametrize("accept, cookie, expected", [
    (None, None, "fr"), ("en-GB,en;q=0.9", None, "en"), ("de-DE,de;q=0.9", None, "fr"),
    ("en-GB,en;q=0.9", "fr", "fr"), ("fr-FR", "en", "en")])
def test_pages_follow_the_cookie_then_accept_language_then_french(app, accept, cookie, expected):
    client = app.test_client()
    if cookie:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/connexion", headers=headers)
    assert f'<html lang="{expected}">' in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/connexion", "/api/v1/nowhere"])
def test_an_answer_in_the_browsers_language_says_it_varies_on_accept_language(app, url):
    """A cache (the browser's, a proxy's, the service worker's) must not hand the English page to a
    browser asking for French: the answer names Accept-Language in Vary when it followed it."""
    client = app.test_client()
    english = client.get(url, headers={"Accept-Language": "en"})
    assert "Accept-Language" in english.vary
    assert "Accept-Language" in client.get(url).vary  # French by default: also chosen by the header
    client.set_cookie("lang", "en")  # the language picked: the header plays no part
    assert "Accept-Language" not in client.get(url, headers={"Accept-Language": "fr"}).vary


def test_an_answer_without_words_does_not_vary_on_accept_language(app):
    """A static file is the same in every language: no Vary on the header."""
    response = app.test_client().get("/static/css/app.css", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "Accept-Language" not in response.vary
