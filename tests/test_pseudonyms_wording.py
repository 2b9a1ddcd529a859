"""Issue 16 item 5: one definition of the code inputs (outreach/pseudonyms/inputs.py), and the same
words in the four places a worker, a person or a developer reads them: the logging form, the privacy
page, the README and the API documentation. Sex is asked once on the form, with the code's
letters."""

import html
import re
from pathlib import Path

from outreach.extensions import db
from outreach.models import User
from outreach.pseudonyms.inputs import EXAMPLE, INPUTS, sentences

README = Path(__file__).resolve().parent.parent / "README.md"


def _text(page):
    """What a reader sees: the page without its tags, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _logging_form(app, client):
    with app.app_context():
        team = (
            db.session.execute(db.select(User).filter_by(email="worker@aurore.demo"))
            .scalar_one()
            .teams[0]
            .code
        )
    client.post("/maraude", data={"team": team})
    page = client.get("/maraude").get_data(as_text=True)
    return page[
        page.index('id="contact-form"') : page.index("</form>", page.index('id="contact-form"'))
    ]


def test_the_code_inputs_read_the_same_on_the_form_the_privacy_page_the_readme_and_the_api(
    app, client, login
):
    login("worker@aurore.demo")
    form = _logging_form(app, client)
    places = {
        "form": _text(form),
        "privacy": _text(client.get("/confidentialite").get_data(as_text=True)),
        "readme": README.read_text(),
        "api": str(client.get("/api/v1/openapi.json").get_json()),
    }
    for place, text in places.items():
        for _field, label, help_ in INPUTS:
            assert label in text and help_ in text, (place, label, help_)
        assert EXAMPLE in text, place
    for place in ("privacy", "readme", "api"):  # as sentences, "label : help"
        assert all(s in places[place] for s in sentences()), place
    assert "Naissance (AAAA)" not in places["form"]  # the old wording is gone


def test_sex_is_asked_once_with_the_letters_of_the_code(app, client, login):
    login("worker@aurore.demo")
    form = _logging_form(app, client)
    assert "pseudo_sex" not in form
    sexes = re.findall(r'<input type="radio" name="sex" value="(\w)"[^>]*><span>(\w+)</span>', form)
    assert sexes == [("f", "F"), ("m", "M"), ("x", "X")]
