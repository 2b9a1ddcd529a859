"""English interface: the `lang` cookie (set by /langue/en) switches the pages to English, French
stays the default, and every UI string found in the code has a checked English translation in
messages.po."""
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from outreach.extensions import db
from outreach.models import User

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
BRACES = re.compile(r"\{\w*\}")  # str.format / JS placeholders, not checked by Babel
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # as `make translations-update`
HOW_TO_FIX = ("run `make translations-update`, then write the English msgstr of each entry in "
              "translations/en/LC_MESSAGES/messages.po and delete its `#, fuzzy` line once checked")


def _catalogue():
    with PO.open("rb") as f:
        return read_po(f, abort_invalid=True)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogue():
    """`make install` compiles the catalogue; do it here too when the .mo is missing or older than
    the .po."""
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    tmp = MO.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write_mo(f, _catalogue(), use_fuzzy=True)
    os.replace(tmp, MO)


def _ui_strings():
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _worker_team(app):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        return user.teams[0].code


def _text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _start_shift(app, client):
    response = client.post("/maraude", data={"team": _worker_team(app), "staff_count": "2"})
    assert response.status_code == 302


# --- the catalogue ------------------------------------------------------------------------------

def test_every_ui_string_in_the_code_has_an_english_translation():
    translated = {m.id for m in _catalogue() if m.id and m.string and "fuzzy" not in m.flags}
    missing = {msgid: where for msgid, where in _ui_strings().items() if msgid not in translated}
    assert not missing, f"{len(missing)} UI string(s) without a checked English translation " \
        f"({HOW_TO_FIX}):\n" + \
        "\n".join(f"  {where}: {msgid!r}"
                  for msgid, where in sorted(missing.items(), key=lambda i: i[1]))


def test_every_catalogue_entry_is_translated_checked_and_keeps_its_placeholders():
    catalogue = _catalogue()
    assert len(catalogue) > 400
    empty = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and "fuzzy" in m.flags]
    assert not empty, f"untranslated entries ({HOW_TO_FIX}): {empty}"
    assert not fuzzy, f"fuzzy entries, guessed by `pybabel update` ({HOW_TO_FIX}): {fuzzy}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    problems += [(m.id, m.string) for m in catalogue
                 if m.id and sorted(BRACES.findall(m.id)) != sorted(BRACES.findall(m.string))]
    assert not problems, f"placeholders differ between msgid and msgstr: {problems}"


# --- the pages ----------------------------------------------------------------------------------

def test_language_link_switches_login_and_home_to_english(client):
    response = client.get("/langue/en?next=/connexion")
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    page = _text(client, "/connexion")
    assert '<html lang="en">' in page
    for text in ("Sign in", "Email address", "Password", "Two-factor authentication",
                 "Outreach shift tracking tool. No personal names are recorded.", "Français"):
        assert text in page
    assert "Se connecter" not in page and "Mot de passe" not in page
    bad = client.post("/connexion",
                      data={"email": "worker@aurore.demo", "password": "wrong-password"})
    assert "Incorrect email address or password." in bad.get_data(as_text=True)
    client.post("/connexion", data={"email": "worker@aurore.demo", "password": "demo-password"})
    home = _text(client, "/accueil")
    for text in ("Welcome", "Choose a section from the menu.", "Outreach shift",
                 "Shelter referrals", "Outreach worker", "Sign out", "Privacy"):
        assert text in home
    assert "Bienvenue" not in home and "Se déconnecter" not in home
    missing = client.get("/nowhere")
    assert (missing.status_code == 404
            and "This page does not exist." in missing.get_data(as_text=True))


def test_english_logging_page(app, client, login):
    client.set_cookie("lang", "en")
    login("worker@aurore.demo")
    assert "Start an outreach shift" in _text(client, "/maraude")
    _start_shift(app, client)
    page = _text(client, "/maraude")
    for text in ("Outreach shift started.", "New contact", "Known person", "Anonymous passage",
                 "Refusal / no contact", "Supplies given", "Shelter referral",
                 "Close the outreach shift", "known: seen on {date} by {team}"):
        assert text in page
    for french in ("Nouveau contact", "Passage anonyme", "Clore la maraude"):
        assert french not in page
    # the lists show their English labels (the French one where none is set)
    for text in ("Base kit", "Mouthpieces", "Syringes", "Supervised consumption room",
                 "Supported long-stay housing"):
        assert text in page
    for french in ("Embouts", "Seringues", "SCMR / halte soins addictions", "Logement accompagné"):
        assert french not in page


def test_french_is_the_default_and_an_unknown_language_keeps_it(app, client, login):
    page = _text(client, "/connexion")
    assert '<html lang="fr">' in page and "Se connecter" in page and "Adresse e-mail" in page
    client.get("/langue/xx")
    client.set_cookie("lang", "de")
    assert "Se connecter" in _text(client, "/connexion")
    login("worker@aurore.demo")
    home = _text(client, "/accueil")
    assert "Bienvenue" in home and "Se déconnecter" in home and "English" in home
    _start_shift(app, client)
    page = _text(client, "/maraude")
    for text in ("Maraude commencée.", "Nouveau contact", "Passage anonyme", "Clore la maraude"):
        assert text in page
    assert "New contact" not in page and "Anonymous passage" not in page
