"""The second factor: a code works once, a wrong or missing code is a failed login (audited,
throttled), changing the factor needs the password and a current code; a temporary password is
changed first."""
import re
import time

import pyotp
import pytest
from conftest import do_login

from outreach.extensions import db
from outreach.models import AuditEvent, User
from outreach.seed import DEMO_PASSWORD

MANAGER = "manager@plan.demo"
FREE = 5  # LOGIN_DELAY_AFTER's default


@pytest.fixture
def secret(app):
    """The plan manager has a second factor."""
    value = pyotp.random_base32()
    with app.app_context():
        db.session.execute(db.update(User).filter_by(email=MANAGER).values(totp_secret=value))
        db.session.commit()
    return value


def _login(client, code, password=DEMO_PASSWORD, email=MANAGER):
    return client.post("/connexion", data={"email": email, "password": password, "totp": code})


def _events(app, *actions):
    with app.app_context():
        rows = db.session.execute(db.select(AuditEvent).where(AuditEvent.action.in_(actions))
                                  .order_by(AuditEvent.id)).scalars()
        return [(e.action, (e.details or {}).get("reason")) for e in rows]


def _stored_secret(app):
    with app.app_context():
        return db.session.execute(db.select(User.totp_secret).filter_by(email=MANAGER)).scalar_one()


def test_a_code_works_once(app, secret):
    code = pyotp.TOTP(secret).now()
    first = app.test_client()
    assert _login(first, code).status_code == 302
    assert _login(app.test_client(), code).status_code == 401  # replayed, from another browser
    assert (first.get("/").status_code == 302
            and "/connexion" not in first.get("/").headers["Location"])


@pytest.mark.parametrize("code", ["", "000000", "12345", "abcdef"])
def test_a_wrong_or_missing_code_is_a_failed_login(app, client, secret, code):
    if code == pyotp.TOTP(secret).now():
        code = "999999"
    response = _login(client, code)
    assert response.status_code == 401
    assert _events(app, "login", "login_failed") == [("login_failed", "totp")]


def test_wrong_codes_count_towards_the_login_delay(app, client, secret):
    for _ in range(FREE + 1):
        _login(client, "")
    assert _login(client, pyotp.TOTP(secret).now()).status_code == 429


def test_changing_the_second_factor_needs_the_password_and_a_current_code(app, client, secret):
    assert _login(client, pyotp.TOTP(secret).now()).status_code == 302
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    new = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    new_code = pyotp.TOTP(new).now()
    attempts = [
        {"secret": new, "code": new_code},  # a session alone
        {"secret": new, "code": new_code, "password": "not the password"},
        {"secret": new, "code": new_code, "password": DEMO_PASSWORD},  # no current code
        {"secret": new, "code": new_code, "password": DEMO_PASSWORD, "current_code": "000000"},
    ]
    for form in attempts:
        assert client.post("/compte/double-facteur", data=form).status_code == 422, form
        assert _stored_secret(app) == secret
    response = client.post("/compte/double-facteur", data={
        "secret": new, "code": new_code, "password": DEMO_PASSWORD,
        "current_code": _next_code(secret)})
    assert response.status_code == 302 and _stored_secret(app) == new
    assert ("totp_changed", None) in _events(app, "totp_changed")
    assert [r for _a, r in _events(app, "reauth_failed")] == ["password", "totp", "totp"]


def _next_code(secret):
    """A code the server accepts and has not seen: the next time step's (within the window of one
    step)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_the_first_enrolment_needs_the_password(app, client):
    do_login(client, MANAGER)
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    new = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    form = {"secret": new, "code": pyotp.TOTP(new).now()}
    assert client.post("/compte/double-facteur",
                       data=form).status_code == 422 and _stored_secret(app) is None
    assert client.post("/compte/double-facteur",
                       data={**form, "password": DEMO_PASSWORD}).status_code == 302
    assert _stored_secret(app) == new
    # the enrolment code is used up
    assert _login(app.test_client(), form["code"]).status_code == 401


def test_a_temporary_password_is_changed_before_anything_else(app, client):
    do_login(client, "admin@aurore.demo")
    with app.app_context():
        worker_id = db.session.execute(
            db.select(User.id).filter_by(email="worker@aurore.demo")).scalar_one()
    page = client.post(f"/admin/utilisateurs/{worker_id}/identifiants", data={"mode": "temporary"})
    temporary = re.search(r'<code class="secret">([^<]+)</code>',
                          page.get_data(as_text=True)).group(1)
    worker = app.test_client()
    assert _login(worker, "", password=temporary, email="worker@aurore.demo").status_code == 302
    for url in ("/maraude", "/orientations/", "/compte/jetons", "/"):
        response = worker.get(url)
        assert (response.status_code == 302
                and response.headers["Location"].endswith("/mot-de-passe")), url
    assert worker.get("/api/v1/reference").status_code == 403
    assert worker.get("/mot-de-passe").status_code == 200
    new = "a long street passphrase"
    assert worker.post("/mot-de-passe",
                       data={"current": temporary, "new": new, "confirm": new}).status_code == 302
    assert worker.get("/maraude").status_code == 200
