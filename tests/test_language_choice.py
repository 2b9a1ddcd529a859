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
