"""Stage 1 of the person code as the README specifies it: its test vectors, its normalisation, its
cost setting published to the browser; the form without JavaScript codes a person as the browser
does."""
import hashlib
import re
from pathlib import Path

import pytest

from outreach.config import ConfigError, load
from outreach.extensions import db
from outreach.maintenance.keys import pseudonym_code
from outreach.models import Person
from outreach.pseudonyms.services import (
    digest_from_inputs,
    normalise,
    normalise_birth,
    stage1_text,
)

README = Path(__file__).resolve().parent.parent / "README.md"
CELL = r"\s*(?:`((?:[^`\\]|\\.)*)`|∅)\s*"
VECTOR = re.compile(r"^\|" + r"\|".join([CELL] * 5)
                    + r"(?:\(weak\))?\s*\|\s*`([0-9a-f]{64})`\s*\|$")


def readme_vectors():
    rows = [VECTOR.match(line) for line in README.read_text(encoding="utf-8").splitlines()]
    return [tuple((cell or "").replace("\\|", "|") for cell in row.groups()) for row in rows if row]


def test_the_readme_publishes_test_vectors():
    vectors = readme_vectors()
    assert len(vectors) >= 6
    assert any(v[4].startswith("|") for v in vectors)  # a weak code among them


@pytest.mark.parametrize("vector", readme_vectors(), ids=lambda v: v[1])
def test_readme_vectors_are_what_the_code_computes(app, vector):
    initial, name, birth, sex, password, digest = vector
    assert (app.config["PLAN_SALT"],
            app.config["PSEUDONYM_ITERATIONS"]) == ("plan-crack-paris-2019", 200_000)
    with app.app_context():
        assert stage1_text(initial, name, birth, sex)[0] == password
        assert digest_from_inputs(initial, name, birth, sex)[0] == digest
    # the README's formula, written independently of the code
    assert hashlib.pbkdf2_hmac("sha256", password.encode(), b"plan-crack-paris-2019",
                               200_000).hex() == digest


@pytest.mark.parametrize("typed, expected", [
    ("Cœur", "COEUR"), ("ÆSA", "AESA"), ("Straße", "STRASSE"), ("Łódź", "LODZ"), ("Øster", "OSTER"),
    ("İsmail Işık", "ISMAIL ISIK"), ("Nguyễn Thị Đặng", "NGUYEN THI DANG"), ("O'Brien", "OBRIEN"),
    ("N’Diaye", "NDIAYE"), ("Jean-Pierre", "JEAN PIERRE"), ("  Jean   Pierre ", "JEAN PIERRE"),
    ("ＺＯＲＧ１９", "ZORG19"), ("ﬁlip", "FILIP"), ("ǅemal", "DZEMAL"), ("Ǿrsted", "ORSTED"),
    ("e\u0301\u1dc4\u20d7", "E"), ("Иван", ""), ("𝐀lice", "LICE"), ("ɲɛ", "NE"),
])
def test_awkward_names_normalise_to_plain_latin(typed, expected):
    assert normalise(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("1977", "1977"), ("１９７７", "1977"), (" 1977 ", "1977"), ("1977-03-14", "1977-03-14"),
    ("14/03/1977", "1977-03-14"), ("4.3.1977", "1977-03-04"), ("77", ""), ("1977-13", ""),
    ("٢٠٠١", ""),
])
def test_birth_is_a_year_or_a_date(typed, expected):
    assert normalise_birth(typed) == expected


def test_weak_codes_miss_an_initial_a_name_or_a_birth(app):
    with app.app_context():
        assert digest_from_inputs("Q", "Zorglubix", "1977", "")[1] is False
        assert all(digest_from_inputs(*inputs)[1] for inputs in
                   [("", "Zorglubix", "1977", "m"), ("Q", "", "1977", "m"),
                    ("Q", "Zorglubix", "77", "m")])


def test_the_logging_page_publishes_salt_and_cost(client, login):
    login("worker@aurore.demo")
    client.post("/maraude", data={"team": "aurore_nord", "staff_count": "2"})
    page = client.get("/maraude").get_data(as_text=True)
    assert 'data-plan-salt="plan-crack-paris-2019"' in page and 'data-iterations="200000"' in page


def test_the_form_without_javascript_codes_full_width_digits_as_the_browser(app, client, login):
    """The same person typed "１９７７" (a phone's full-width keyboard) and "1977" is one person,
    coded with PBKDF2 as the README says."""
    login("worker@aurore.demo")
    client.post("/maraude", data={"team": "aurore_nord", "staff_count": "2"})
    for birth in ("１９７７", "1977"):
        response = client.post("/maraude/contacts", data={
            "kind": "known", "pseudo_initial": "é", "pseudo_name": "Cœur  d’Alène",
            "pseudo_birth": birth, "sex": "m"})
        assert response.status_code == 302
    digest = hashlib.pbkdf2_hmac("sha256", b"E|COEUR DALENE|1977|M", b"plan-crack-paris-2019",
                                 200_000).hex()
    with app.app_context():
        persons = db.session.execute(db.select(Person)).scalars().all()
        assert [(p.code, p.is_weak)
                for p in persons] == [(pseudonym_code(digest, "test-pseudonym-key"), False)]


@pytest.mark.parametrize("env, iterations", [("production", "1000"), ("development", "0")])
def test_a_stage1_too_cheap_is_refused_at_start(tmp_path, monkeypatch, env, iterations):
    monkeypatch.setenv("OUTREACH_ENV", env)
    monkeypatch.setenv("OUTREACH_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("OUTREACH_PSEUDONYM_KEY", "p" * 40)
    monkeypatch.setenv("OUTREACH_PSEUDONYM_ITERATIONS", iterations)
    with pytest.raises(ConfigError, match="OUTREACH_PSEUDONYM_ITERATIONS"):
        load(str(tmp_path))
