"""The logging page with everything it loads (CSS, JS, icon, manifest) stays <= 14 KB gzipped (level
6).

Counted as bench/run.py counts it (bench.run.page_parts, gzip -6 as the README's nginx block): the
HTML of /maraude with an open shift and every same-origin file its <link> and <script> tags load.
The scripts load two more files only when needed (sync.js when records wait on the device, sha256.js
without crypto.subtle): a Chromium visit checks that a normal visit loads nothing beyond what is
counted. The JavaScript served from static/js is built by `make assets` from the readable
static/src.
"""
import hashlib
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import browser_login

from bench.run import LAZY, PAGE_BUDGET, page_parts
from outreach.extensions import db
from outreach.models import User

STATIC = Path(__file__).resolve().parent.parent / "static"


def _team(app):
    with app.app_context():
        return db.session.execute(db.select(User).filter_by(
            email="worker@aurore.demo")).scalar_one().teams[0].code


def _logging_page(app, client, login):
    login("worker@aurore.demo")
    client.post("/maraude", data={"team": _team(app)})
    page = client.get("/maraude").get_data()
    assert b'id="contact-form"' in page
    return page_parts(page, lambda url: client.get(url).get_data())


def test_logging_page_with_everything_it_loads_fits(app, client, login):
    parts = _logging_page(app, client, login)
    assert {"/static/css/app.css", "/static/js/queue.js", "/static/js/log.js",
            "/manifest.webmanifest"} <= set(parts)
    assert sum(parts.values()) <= PAGE_BUDGET, parts


def test_files_loaded_when_needed_exist_and_are_not_in_the_page(app, client, login):
    parts = _logging_page(app, client, login)
    for url in LAZY:
        assert url not in parts
        assert client.get(url).status_code == 200


def test_built_scripts_match_their_readable_sources():
    """static/src/BUILD (written by `make assets`) holds the hashes of the sources and of their
    builds."""
    recorded = dict(reversed(line.split())
                    for line in (STATIC / "src" / "BUILD").read_text().splitlines())
    sources = sorted(p.name for p in (STATIC / "src").glob("*.js"))
    assert sorted(p.name for p in (STATIC / "js").glob("*.js")) == sources
    for name in sources:
        for path in (f"src/{name}", f"js/{name}"):
            digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()
            assert recorded.get(path) == digest, f"{path} changed since `make assets`: run it"


@pytest.mark.browser
def test_a_visit_loads_only_what_is_counted(page, live_server):
    browser_login(page, "worker@aurore.demo")
    page.goto("/maraude")
    page.locator("#shift-form button[type=submit]").click()
    page.wait_for_selector("#contact-form")
    page.evaluate("navigator.serviceWorker.ready")
    loaded = []
    page.on("request", lambda r: loaded.append((r.resource_type, urlparse(r.url).path)))
    page.reload()
    page.wait_for_load_state("networkidle")
    files = {path for kind, path in loaded if kind not in ("document", "fetch", "xhr")}
    assert files and not files & set(LAZY), loaded
    html = page.content().encode()
    counted = set(page_parts(html, lambda url: b""))
    assert files <= counted, (files, counted)


def test_readable_sources_have_no_one_letter_globals():
    """static/src is written for people (issue 16 item 10): the minifier shortens names, not the
    author."""
    for path in sorted((STATIC / "src").glob("*.js")):
        top = re.findall(r"^ {0,2}var ([^;]+)", path.read_text(), re.MULTILINE)
        names = [part.split("=")[0].strip() for line in top for part in line.split(",")]
        assert not [n for n in names if re.fullmatch(r"[A-Za-z]", n)], (path.name, names)
