"""Hypothesis over the HTML forms and the JSON write API: never a 5xx; a refusal names the field.

Each test drives one logged-in client through many generated bodies on both databases; examples are
few (the file must stay fast) but mix realistic codes with hostile values: NUL bytes, huge strings,
RTL marks, emoji, negative and huge numbers, malformed times and UUIDs, wrong JSON types. Also the
session-cookie + X-CSRFToken path the offline client (static/js/queue.js) uses for the JSON API.
"""
import os
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outreach.extensions import db
from outreach.models import Contact, Shift, User
from outreach.security import new_api_token
from outreach.seed import DEMO_PASSWORD

WORKER = "worker@aurore.demo"
# Examples per test: the Hypothesis profile's (tests/conftest.py); FUZZ_EXAMPLES=500 digs deeper
# locally.
DEEPER = (settings(max_examples=int(os.environ["FUZZ_EXAMPLES"])) if "FUZZ_EXAMPLES" in os.environ
          else None)
FUZZ = settings(DEEPER, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

HOSTILE = ["", " ", "\x00", "a\x00b", "-1", "0", "1", "3", "501", "1001", "10001",
           "99999999999999999999999", "1e3", "NaN", "１２", "٣", "12:00", "25:61", "23:59",
           "00:00", "12:00:00+05:00", "2026-11-28T12:00", "known", "anonymous", "refusal",
           "kit_base", "naloxone", "chapelle", "stalingrad", "autre", "aurore_nord", "aurore_est",
           "gaia_mobile", "f", "m", "x", "u18", "o55", "calme", "agitee", "rue", "crack",
           "hebergement", "csapa", "assore", "on", "true", "\u202eevil", "🙂", "é" * 300,
           "9" * 5000, "<script>alert(1)</script>", "'; DROP TABLE contacts; --", "0" * 64,
           "g" * 64, "00000000-0000-0000-0000-000000000000", "not-a-uuid"]
FORM_VALUE = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20), st.uuids().map(str))

START_FIELDS = ["team", "started_at", "sectors", "staff_count", "stock_out-kit_base",
                "stock_out-naloxone", "stock_out-nope", "id"]
CONTACT_FIELDS = ["kind", "people_count", "occurred_at", "sector", "sex", "age_band",
                  "living_situation",
                  "products", "needs", "material-kit_base", "material-naloxone", "material-nope",
                  "orientation-csapa", "accompanied-csapa", "referral-assore", "pseudo_initial",
                  "pseudo_name",
                  "pseudo_birth", "pseudo_sex", "digest", "is_weak", "id", "shift_id"]
CLOSE_FIELDS = ["ended_at", "ambiance", "police_presence", "unapproached_women", "unapproached_men",
                "unapproached_other", "used_material_collected", "stock_back-kit_base",
                "stock_back-nope"]

JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20) | st.floats()
    | st.sampled_from(HOSTILE + ["\ud800"]) | st.text(max_size=15),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=3),
    max_leaves=6)


def _form(fields, base=None):
    """A form body over ``fields`` (some repeated, as checkbox lists are), half the time on top of a
    valid ``base`` so that accepted bodies are explored too."""
    fuzz = st.dictionaries(st.sampled_from(fields), st.lists(FORM_VALUE, min_size=1, max_size=2),
                           max_size=8)
    if base is None:
        return fuzz
    return st.tuples(st.booleans(), fuzz).map(lambda pair: {**base, **pair[1]} if pair[0]
                                              else pair[1])


def _json(keys, base):
    """A JSON object over ``keys`` (plausible or arbitrary values), on top of a valid ``base`` (a
    dict of strategies) with one plausible key, or with many keys, or alone."""
    fuzz = st.fixed_dictionaries({}, optional={k: v | JSON_VALUE for k, v in keys.items()})
    one_plausible = st.sampled_from(sorted(keys)).flatmap(lambda k: keys[k].map(lambda v: {k: v}))
    return st.one_of(st.tuples(st.fixed_dictionaries(base), one_plausible),
                     st.tuples(st.fixed_dictionaries(base), fuzz),
                     st.tuples(st.just({}), fuzz)).map(lambda t: {**t[0], **t[1]})


def _team_code(app):
    with app.app_context():
        return db.session.execute(
            db.select(User).filter_by(email=WORKER)).scalar_one().teams[0].code


def _open_shift_id(app):
    with app.app_context():
        return db.session.execute(db.select(Shift.id).filter_by(status="open")).scalar()


def _close_in_db(app):
    with app.app_context():
        shift = db.session.execute(db.select(Shift).filter_by(status="open")).scalar_one()
        shift.status, shift.ended_at = "closed", shift.started_at
        db.session.commit()


def _reopen(app, shift_id):
    with app.app_context():
        db.session.get(Shift, shift_id).status = "open"
        db.session.commit()


def _assert_html_refusal(response, body, seen=None):
    """Never a 5xx; a 4xx other than the login's 401 shows an error list naming a field."""
    if seen is not None:
        seen.add(response.status_code)
    assert response.status_code < 500, (response.status_code, body)
    if response.status_code in (403, 404, 409, 422):
        text = response.get_data(as_text=True)
        assert re.search(r'<li data-field="[^"]+">|<li>[\w\-]+ : ',
                         text), (response.status_code, body, text[:300])


def _assert_json_refusal(response, body, seen=None):
    if seen is not None:
        seen.add(response.status_code)
    assert response.status_code < 500, (response.status_code, body)
    if 400 <= response.status_code < 500:
        errors = response.get_json()["errors"]
        assert errors and all(isinstance(k, str) and isinstance(v, str) and v
                              for k, v in errors.items()), errors


@pytest.mark.slow
def test_html_forms_never_5xx(app, client, login):
    login(WORKER)
    team = _team_code(app)
    seen = {"start": set(), "contact": set(), "close": set()}

    @FUZZ
    @given(body=_form(START_FIELDS, {"team": team}))
    def start(body):
        response = client.post("/maraude", data=body)
        _assert_html_refusal(response, body, seen["start"])
        if response.status_code == 302:  # started: close it so the next example starts again
            _close_in_db(app)
    start()

    assert client.post("/maraude", data={"team": team}).status_code == 302
    shift_id = _open_shift_id(app)
    assert client.post("/maraude/contacts", data={"kind": "anonymous"}).status_code == 302
    with app.app_context():
        contact_id = db.session.execute(db.select(Contact.id)).scalar()

    @FUZZ
    @given(body=_form(CONTACT_FIELDS, {"kind": "anonymous"}), edit=st.booleans())
    def contact(body, edit):
        url = f"/maraude/contacts/{contact_id}" if edit else "/maraude/contacts"
        _assert_html_refusal(client.post(url, data=body), body, seen["contact"])
    contact()

    @FUZZ
    @given(body=_form(CLOSE_FIELDS))
    def close(body):
        response = client.post(f"/maraude/{shift_id}/close", data=body)
        _assert_html_refusal(response, body, seen["close"])
        if response.status_code == 302:
            _reopen(app, shift_id)
    close()

    @FUZZ
    @given(path=st.sampled_from(HOSTILE[:12] + ["%00", "%ZZ", "x" * 300]).filter(bool)
           .map(lambda p: p.replace("\x00", "%00")))
    def odd_ids(path):
        for url in (f"/maraude/contacts/{path}", f"/maraude/contacts/{path}/supprimer",
                    f"/maraude/contacts/{path}/undo", f"/maraude/{path}/close"):
            _assert_html_refusal(client.post(url, data={"kind": "known"}), url)
    odd_ids()
    for name, statuses in seen.items():  # the generator reached both outcomes
        assert 302 in statuses and 422 in statuses, (name, statuses)


@pytest.mark.slow
def test_login_form_never_5xx(app, client):
    @FUZZ
    @given(body=st.dictionaries(st.sampled_from(["email", "password", "totp", "next"]),
                                FORM_VALUE | st.sampled_from(
                                    [WORKER, "a@b.fr", "x" * 300 + "@b.fr"]), max_size=4))
    def attempt(body):
        response = client.post("/connexion", data=body)
        assert response.status_code < 500, body
        if response.status_code == 400:
            assert 'class="field-error"' in response.get_data(as_text=True)
        if response.status_code == 302:
            client.post("/deconnexion")
    attempt()


def _encounter_values(shift_id):
    plausible = {
        "id": st.uuids().map(str), "shift_id": st.just(shift_id) | st.uuids().map(str),
        "kind": st.sampled_from(["known", "anonymous", "refusal", "other"]),
        "occurred_at": st.sampled_from(
            ["2026-13-01T00:00", "2020-01-01T00:00:00Z", "now", "2026-11-28T25:00"]),
        "sector": st.sampled_from(["chapelle", "mars", ""]),
        "person": st.fixed_dictionaries(
            {"digest": st.sampled_from(["a" * 64, "A" * 64, "0" * 63, "\x00" * 64]),
             "weak": JSON_VALUE}),
        "people_count": st.integers(-5, 600), "sex": st.sampled_from(["f", "m", "x", "z"]),
        "age_band": st.sampled_from(["u18", "o55", "zz"]),
        "living_situation": st.sampled_from(["rue", "lune"]),
        "products": st.lists(st.sampled_from(["crack", "nope"]), max_size=2),
        "needs": st.lists(st.sampled_from(["hebergement", "nope"]), max_size=2),
        "materials": st.dictionaries(st.sampled_from(["kit_base", "naloxone", "nope"]),
                                     st.integers(-3, 20000)),
        "orientations": st.lists(
            st.fixed_dictionaries({"destination": st.sampled_from(["csapa", "mars"]),
                                   "accompanied": JSON_VALUE}), max_size=2),
        "referrals": st.lists(
            st.fixed_dictionaries({"programme": st.sampled_from(["assore", "nope"])}),
            max_size=2),
    }
    return _json(plausible, {"id": st.uuids().map(str), "shift_id": st.just(shift_id),
                            "kind": st.just("refusal")})


def _bearer(app):
    with app.app_context():
        token = new_api_token(
            db.session.execute(db.select(User).filter_by(email=WORKER)).scalar_one())
        db.session.commit()
    return {"Authorization": "Bearer " + token}


@pytest.mark.slow
def test_json_write_api_never_5xx(app):
    client = app.test_client()
    # token auth
    client.environ_base.update({"HTTP_" + k.upper(): v for k, v in _bearer(app).items()})
    team = _team_code(app)
    seen = {"shifts": set(), "encounters": set(), "close": set()}
    shift_keys = {"id": st.uuids().map(str), "team": st.sampled_from([team, "gaia_mobile", ""]),
                  "started_at": st.sampled_from(
                      ["2026-11-28T20:00:00Z", "hier", "2026-02-30T10:00"]),
                  "sectors": st.lists(st.sampled_from(["chapelle", "mars"]), max_size=2),
                  "staff_count": st.integers(-1, 60),
                  "stock_out": st.dictionaries(st.sampled_from(["kit_base", "nope"]),
                                               st.integers(-1, 20000))}

    @FUZZ
    @given(body=_json(shift_keys, {"id": st.uuids().map(str), "team": st.just(team)}) | JSON_VALUE)
    def shifts(body):
        response = client.post("/api/v1/shifts", json=body)
        _assert_json_refusal(response, body, seen["shifts"])
        if response.status_code == 201:
            started = response.get_json()
            closed = client.post(f"/api/v1/shifts/{started['id']}/close",
                                 json={"ended_at": started["started_at"]})
            assert closed.status_code == 200, closed.get_json()
    shifts()

    created = client.post("/api/v1/shifts", json={"id": str(uuid.uuid4()), "team": team})
    assert created.status_code == 201, created.get_json()
    shift_id = created.get_json()["id"]

    @FUZZ
    @given(body=_encounter_values(shift_id) | JSON_VALUE)
    def encounters(body):
        _assert_json_refusal(client.post("/api/v1/encounters", json=body), body, seen["encounters"])
    encounters()

    @FUZZ
    @given(body=st.fixed_dictionaries({}, optional={
        k: JSON_VALUE | st.sampled_from(v) for k, v in {
            "ended_at": ["2026-11-28T23:00:00Z", "2000-01-01T00:00:00Z", "demain"],
            "ambiance": ["calme", "orageuse"], "police_presence": [True, "oui"],
            "unapproached": [{"f": 1, "m": -1}, {"x": 10**9}], "used_material_collected": [3, -3],
            "stock_back": [{"kit_base": 2}, {"nope": 1}]}.items()}) | JSON_VALUE)
    def close(body):
        response = client.post(f"/api/v1/shifts/{shift_id}/close", json=body)
        _assert_json_refusal(response, body, seen["close"])
        if _open_shift_id(app) is None:
            _reopen(app, shift_id)
    close()

    for raw in (b"{", b"\xff\xfe", b"null", b"[1]", b'{"id": NaN}'):
        response = client.post("/api/v1/encounters", data=raw, content_type="application/json")
        _assert_json_refusal(response, raw)
    for name, statuses in seen.items():
        assert statuses & {200, 201} and 422 in statuses, (name, statuses)


def _page_token(response):
    page = response.get_data(as_text=True)
    return re.search(r'<input[^>]*name="csrf_token"[^>]*>',
                     page).group(0).split('value="')[1].split('"')[0]


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_session_api_needs_the_csrf_header(csrf_app):
    """queue.js: GET /file-attente/jeton for a token, then POST JSON with the session cookie and
    X-CSRFToken."""
    client = csrf_app.test_client()
    assert client.post("/connexion", data={"email": WORKER, "password": DEMO_PASSWORD,
                                           "csrf_token": _page_token(
                                               client.get("/connexion"))}).status_code == 302
    team = _team_code(csrf_app)
    body = {"id": str(uuid.uuid4()), "team": team}
    missing = client.post("/api/v1/shifts", json=body)
    assert missing.status_code in (400, 403) and "csrf" in missing.get_json()["errors"]
    wrong = client.post("/api/v1/shifts", json=body, headers={"X-CSRFToken": "forged"})
    assert wrong.status_code in (400, 403) and "csrf" in wrong.get_json()["errors"]
    foreign = _page_token(csrf_app.test_client().get("/connexion"))  # another session's token
    stolen = client.post("/api/v1/shifts", json=body, headers={"X-CSRFToken": foreign})
    assert stolen.status_code in (400, 403) and "csrf" in stolen.get_json()["errors"]
    with csrf_app.app_context():
        assert db.session.query(Shift).count() == 0
    token = client.get("/file-attente/jeton",
                       headers={"Accept": "application/json"}).get_json()["csrf_token"]
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    created = client.post("/api/v1/shifts", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    encounter = {"id": str(uuid.uuid4()), "shift_id": body["id"], "kind": "anonymous",
                 "people_count": 2}
    assert client.post("/api/v1/encounters", json=encounter).status_code in (400, 403)
    assert client.post("/api/v1/encounters", json=encounter, headers=headers).status_code == 201
    assert client.post(f"/api/v1/shifts/{body['id']}/close", json={},
                       headers=headers).status_code == 200
    with csrf_app.app_context():
        assert db.session.query(Contact).count() == 1


def test_login_with_a_nul_byte_is_refused_naming_the_email(client):
    """Found by the fuzzing above: PostgreSQL refused the lookup of an e-mail holding NUL (a
    500)."""
    response = client.post("/connexion", data={"email": "worker\x00@aurore.demo", "password": "x"})
    assert (response.status_code == 400
            and "Adresse e-mail invalide." in response.get_data(as_text=True))
