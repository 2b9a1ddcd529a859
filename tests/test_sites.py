"""Sites (issue 21): the register, observations per site visit during a shift (form and
idempotent API), the supervisor's summary, and the map drawn on the server with the same numbers
as its table."""
import datetime as dt
import re
import uuid
from html.parser import HTMLParser

import pytest
from conftest import do_login

from outreach.extensions import db
from outreach.models import AuditEvent, Shift, User, utcnow
from outreach.site_models import Site, SiteObservation, SiteType
from outreach.sites.seed import seed_sites_demo

NAMED = ("Stalingrad", "Jardins d'Éole", "Porte de la Chapelle", "Rosa Parks",
         "Forceval / Porte de la Villette")


def _iso(value):
    return value.replace(microsecond=0).isoformat() + "Z"


class _Api:
    """A test client that sends the worker's bearer token with every request (as the phone's
    queue does)."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)


def _api(app, email="worker@aurore.demo"):
    from outreach.security import new_api_token
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one()
        token = new_api_token(user)
        db.session.commit()
    return _Api(app.test_client(), {"Authorization": "Bearer " + token})


@pytest.fixture
def api(app):
    return _api(app)


def _start_shift(api, team="aurore_est", started=None):
    shift_id = str(uuid.uuid4())
    started = started or utcnow() - dt.timedelta(hours=1)
    response = api.post("/api/v1/shifts",
                        json={"id": shift_id, "team": team, "started_at": _iso(started),
                                 "sectors": ["stalingrad"], "staff_count": 2})
    assert response.status_code == 201, response.json
    return shift_id


def _observation(shift, **extra):
    return {"id": str(uuid.uuid4()), "shift_id": shift, "site": "stalingrad", "people_seen": 12,
            "unapproached": {"f": 1, "m": 3, "x": 0}, "ambiance": "tendue", "police_presence": True,
            "used_material": {"syringes": 4, "pipes": 7},
            "mediations": {"residents": 2, "shopkeepers": 1}, **extra}


def _count(app, model):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


def _site_id(app, code):
    with app.app_context():
        return db.session.execute(db.select(Site.id).filter_by(code=code)).scalar_one()


# --- the register ---------------------------------------------------------------------------------

def test_site_register_is_seeded_with_the_named_sites_and_their_types(client, login):
    login("worker@aurore.demo")
    page = client.get("/sites").get_data(as_text=True)
    for name in NAMED:
        assert name.replace("'", "&#39;") in page, name
    assert ("Lieu de consommation" in page and "Campement" in page
            and "Abords d&#39;une structure" in page)
    assert 'action="/sites"' not in page  # a worker reads the register, never edits it


def test_site_register_is_edited_by_plan_level_only_and_every_edit_is_audited(app, client, login):
    sector_id = _id_of_sector(app, "chapelle")
    with app.app_context():
        type_id = db.session.execute(
            db.select(SiteType.id).filter_by(code="campement")).scalar_one()
    form = {"new-code": "wilson", "new-name": "Avenue du Président Wilson", "new-type_id": type_id,
            "new-arrondissement": 18, "new-sector_id": sector_id, "new-active_from": "2024-01-01",
            "new-latitude": "48.9010", "new-longitude": "2.3650"}
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")  # one organisation's admin: the register is shared data
    assert admin.post("/sites", data=form).status_code == 403
    login("manager@plan.demo")
    assert client.post("/sites", data=form).status_code == 302
    with app.app_context():
        site = db.session.execute(db.select(Site).filter_by(code="wilson")).scalar_one()
        assert (site.arrondissement, site.sector_id,
                site.active_from) == (18, sector_id, dt.date(2024, 1, 1))
        added = db.session.execute(
            db.select(AuditEvent).filter_by(action="site_added")).scalar_one()
        # in every organisation's log
        assert added.organisation_id is None and added.after == "wilson"
    edit = {f"s{site.id}-{k[4:]}": v for k, v in form.items() if k != "new-code"}
    edit[f"s{site.id}-active_until"] = "2025-06-30"
    assert client.post(f"/sites/{site.id}", data=edit).status_code == 302
    with app.app_context():
        changed = db.session.execute(
            db.select(AuditEvent).filter_by(action="site_changed")).scalar_one()
        assert (changed.field, changed.after) == ("active_until", "2025-06-30")


@pytest.mark.parametrize("field, value, message", [
    ("arrondissement", "25", "Number must be between 1 and 20"),
    ("latitude", "48.89", "Latitude et longitude vont ensemble"),
    ("active_until", "2020-01-01", "La fin de la période d'activité précède son début"),
])
def test_site_register_refuses_bad_input_with_a_message_naming_the_field(
        app, client, login, field, value, message):
    login("manager@plan.demo")
    with app.app_context():
        type_id = db.session.execute(db.select(SiteType.id)).scalars().first()
    form = {"new-code": "bad", "new-name": "Mauvais", "new-type_id": type_id,
            "new-arrondissement": 19,
            "new-sector_id": _id_of_sector(app, "stalingrad"), "new-active_from": "2024-01-01",
            f"new-{field}": value}
    response = client.post("/sites", data=form, headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    text = response.get_data(as_text=True).replace("&#39;", "'")
    assert field in text and (message in text or "entre 1 et 20" in text)
    assert _count(app, Site) == _count_named(app)


def test_site_types_and_partners_are_edited_with_the_common_reference_lists(app, client, login):
    login("manager@plan.demo")
    assert client.post("/admin/listes/site_type",
                       data={"code": "squat", "label": "Squat", "label_en": "Squat"}) \
        .status_code == 302
    with app.app_context():
        item = db.session.execute(db.select(SiteType).filter_by(code="squat")).scalar_one()
    assert client.post(f"/admin/listes/site_type/{item.id}",
                       data={"label": "Squat / immeuble", "label_en": "",
                             "position": 9, "is_active": ""}).status_code == 302
    assert client.post("/admin/listes/partner",
                       data={"code": "samu", "label": "SAMU"}).status_code == 302
    assert client.post("/admin/listes/site_type",
                       data={"code": "squat", "label": "Encore"}).status_code == 422
    with app.app_context():
        item = db.session.get(SiteType, item.id)
        assert (item.label, item.is_active) == ("Squat / immeuble", False)
        events = db.session.execute(db.select(AuditEvent).filter(
            AuditEvent.action.in_(("reference_added", "reference_changed")))).scalars().all()
        assert {(e.action, e.target_type) for e in events} >= {
            ("reference_added", "site_types"), ("reference_changed", "site_types"),
            ("reference_added", "partners")}
        # shared: in every organisation admin's log
        assert all(e.organisation_id is None for e in events)
    lists = client.get("/admin/listes").get_data(as_text=True)
    assert 'id="site_type"' in lists and 'id="partner"' in lists and "Squat / immeuble" in lists
    register = client.get("/sites").get_data(as_text=True)
    assert 'href="/admin/listes#site_type"' in register and "<code>squat</code>" not in register
    admin = app.test_client()
    do_login(admin, "admin@aurore.demo")
    assert "Squat / immeuble" in admin.get("/admin/journal").get_data(as_text=True)


# --- observations ---------------------------------------------------------------------------------

def test_site_observation_form_on_the_shift_page_works_without_javascript(app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    page = client.get("/maraude").get_data(as_text=True)
    assert 'id="site-observation-form"' in page and f"/maraude/{shift_id}/sites" in page
    form = {"site_id": _site_id(app, "eole"), "people_seen": "9", "unapproached_women": "0",
            "unapproached_men": "2", "unapproached_other": "0", "ambiance": "calme",
            "police_presence": "non",
            "syringes_collected": "3", "pipes_collected": "5", "mediations_residents": "1",
            "mediations_shopkeepers": "0"}
    response = client.post(f"/maraude/{shift_id}/sites", data=form)
    assert response.status_code == 302
    page = client.get("/maraude").get_data(as_text=True)
    panel = page[page.find('id="site-observations"'):]
    assert ("Observation d'un site (1)" in panel
            and "<th>Jardins d&#39;Éole</th>" in panel), panel[:3000]
    with app.app_context():
        stored = db.session.execute(db.select(SiteObservation)).scalar_one()
        assert (stored.people_seen, stored.police_presence, stored.pipes_collected) == (9, False, 5)
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="site_observation_recorded")).scalar_one()


def test_site_observation_form_refuses_a_bad_count_with_the_field_named_and_stores_nothing(
        app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    form = {"site_id": _site_id(app, "eole"), "people_seen": "-3"}
    response = client.post(f"/maraude/{shift_id}/sites", data=form)
    assert response.status_code == 422
    assert "Personnes vues" in response.get_data(as_text=True)  # the field is named
    assert _count(app, SiteObservation) == 0


def test_site_observation_api_is_idempotent_by_client_id(app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    body = _observation(shift_id)
    first = api.post("/api/v1/site-observations", json=body)
    assert first.status_code == 201, first.json
    replay = api.post("/api/v1/site-observations", json=body)
    assert replay.status_code == 200 and replay.json == first.json
    assert first.json["used_material"] == {"syringes": 4, "pipes": 7}
    assert _count(app, SiteObservation) == 1
    assert api.get(f"/api/v1/site-observations/{body['id']}").json["site"] == "stalingrad"


@pytest.mark.parametrize("change, field", [
    ({"site": "nowhere"}, "site"), ({"site": "\x00"}, "site"), ({"people_seen": -1}, "people_seen"),
    ({"ambiance": "joyeuse"}, "ambiance"),
    ({"used_material": {"needles": 2}}, "used_material"),
    ({"police_presence": "yes"}, "police_presence"),
    ({"id": "not-a-uuid"}, "id"), ({"shift_id": str(uuid.uuid4())}, "shift_id"),
])
def test_site_observation_api_names_the_bad_field_and_stores_nothing(app, client, login, api,
                                                                     change, field):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    response = api.post("/api/v1/site-observations", json=_observation(shift_id, **change))
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert _count(app, SiteObservation) == 0


def test_site_observation_is_refused_in_a_closed_shift_and_at_a_site_not_yet_active(
        app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    with app.app_context():
        db.session.execute(
            db.update(Site).filter_by(code="rosa_parks").values(active_from=utcnow().date()
                                                                 + dt.timedelta(days=30)))
        db.session.commit()
    early = api.post("/api/v1/site-observations", json=_observation(shift_id, site="rosa_parks"))
    assert early.status_code == 422 and "site" in early.json["errors"]
    assert api.post(f"/api/v1/shifts/{shift_id}/close",
                    json={"ended_at": _iso(utcnow())}).status_code == 200
    late = api.post("/api/v1/site-observations", json=_observation(shift_id))
    assert late.status_code == 403
    assert _count(app, SiteObservation) == 0


def test_site_observation_stays_within_its_organisation(app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    body = _observation(shift_id)
    assert api.post("/api/v1/site-observations", json=body).status_code == 201
    other = _api(app, "worker@gaia.demo")
    assert other.get(f"/api/v1/site-observations/{body['id']}").status_code == 404
    # Gaïa cannot write into Aurore's shift, nor reuse the id to read it back
    stolen = other.post("/api/v1/site-observations", json=_observation(shift_id))
    assert stolen.status_code == 422 and "shift_id" in stolen.json["errors"]
    assert other.post("/api/v1/site-observations", json=body).status_code == 409
    gaia = app.test_client()
    do_login(gaia, "worker@gaia.demo")
    gaia_map = gaia.get("/sites/carte").get_data(as_text=True)
    assert _table_numbers(gaia_map)["stalingrad"]["people"] == "0"


def test_site_observation_shows_in_the_supervisors_shift_summary_beside_the_old_per_shift_one(
        app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    assert api.post("/api/v1/site-observations",
                    json=_observation(shift_id, people_seen=17)).status_code == 201
    closed = api.post(f"/api/v1/shifts/{shift_id}/close", json={
        "ended_at": _iso(utcnow()), "ambiance": "agitee", "unapproached": {"f": 4},
        "used_material_collected": 6})
    assert closed.status_code == 200
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    page = supervisor.get(f"/revue/maraude/{shift_id}").get_data(as_text=True)
    row = re.search(r'<tr id="site-observation-[^"]+">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "Stalingrad" in row and ">17<" in row and "4 / 7" in row and "2 / 1" in row
    old = re.search(r'<p id="shift-observation">(.*?)</p>', page, re.DOTALL).group(1)
    # the per-shift observation of old shifts stays readable
    assert "agitée" in old and "4/0/0" in old and ": 6" in old


def test_site_observation_replaces_the_per_shift_one_in_the_close_form(app, api, login):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    client = app.test_client()
    do_login(client, "worker@aurore.demo")
    shift_page = client.get("/maraude").get_data(as_text=True)
    close_form = re.search(r'<form[^>]*id="shift-close-form".*?</form>', shift_page,
                           re.DOTALL).group(0)
    for field in ("ambiance", "police_presence", "unapproached_women", "used_material_collected"):
        assert f'name="{field}"' not in close_form  # recorded per site visit
    assert 'name="ambiance"' in re.search(r'<form[^>]*id="site-observation-form".*?</form>',
                                          shift_page, re.DOTALL).group(0)
    assert client.post(f"/maraude/{shift_id}/close", data={"csrf_token": ""}).status_code == 302
    supervisor = app.test_client()
    do_login(supervisor, "supervisor@aurore.demo")
    summary = supervisor.get(f"/revue/maraude/{shift_id}").get_data(as_text=True)
    # no empty per-shift line for a shift closed without it
    assert 'id="shift-observation"' not in summary
    assert 'id="site-observations-table"' in summary


# --- the map --------------------------------------------------------------------------------------

class _MapReader(HTMLParser):
    """Collects the map's site markers, the table's cells, and anything that would need a script
    or a style."""

    def __init__(self):
        super().__init__()
        self.markers, self.scripts_in_map, self.style_attributes, self.in_svg = {}, 0, 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.style_attributes += "style" in attrs
        if tag == "svg" and attrs.get("id") == "sites-map":
            self.in_svg = True
        if self.in_svg and tag == "script":
            self.scripts_in_map += 1
        if tag == "g" and (attrs.get("id") or "").startswith("map-site-"):
            self.markers[attrs["id"][9:]] = {"people": attrs["data-people"],
                                             "material": attrs["data-material"]}

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_svg = False


def _table_numbers(page):
    rows = {}
    for code, body in re.findall(r'<tr id="table-site-([a-z0-9_]+)">(.*?)</tr>', page, re.DOTALL):
        cells = dict(re.findall(r'data-cell="(\w+)">([^<]*)<', body))
        rows[code] = {"people": cells["people"], "material": cells["material"],
                      "visits": cells["visits"]}
    return rows


def _map(client):
    page = client.get("/sites/carte")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    reader = _MapReader()
    reader.feed(text)
    return text, reader


def test_site_map_draws_the_demo_sites_with_the_numbers_of_its_table(app, client, login, api):
    login("worker@aurore.demo")
    for people, site in ((12, "stalingrad"), (5, "stalingrad"), (8, "eole")):
        shift_id = _start_shift(api)
        body = _observation(shift_id, people_seen=people, site=site)
        assert api.post("/api/v1/site-observations", json=body).status_code == 201
        assert api.post(f"/api/v1/shifts/{shift_id}/close",
                        json={"ended_at": _iso(utcnow())}).status_code == 200
    text, reader = _map(client)
    table = _table_numbers(text)
    assert {"stalingrad", "eole", "chapelle", "rosa_parks", "forceval"} <= set(reader.markers)
    assert table["stalingrad"] == {"people": "17", "material": "22", "visits": "2"}
    assert table["eole"]["people"] == "8" and table["chapelle"]["people"] == "0"
    for code, marker in reader.markers.items():
        assert marker == {k: table[code][k] for k in ("people", "material")}, code
    assert reader.scripts_in_map == 0 and reader.style_attributes == 0 and "<script>" not in text
    assert re.search(r'<tr id="table-arr-19">.*?data-cell="people">17<', text, re.DOTALL)
    assert "© Ville de Paris, Paris Open Data (ODbL)" in text
    assert 'class="arr"' in text and text.count('class="arr"') == 20


def test_site_map_for_a_plan_manager_shows_protected_numbers_identical_in_map_and_table(
        app, client, login, api):
    login("worker@aurore.demo")
    shift_id = _start_shift(api)
    assert api.post("/api/v1/site-observations",
                    json=_observation(shift_id, people_seen=3)).status_code == 201
    assert api.post("/api/v1/site-observations",
                    json=_observation(shift_id, site="eole", people_seen=140)).status_code == 201
    manager = app.test_client()
    do_login(manager, "manager@plan.demo")
    text, reader = _map(manager)
    table = _table_numbers(text)
    # a small count of people never leaves the organisation
    assert table["stalingrad"]["people"] == "&lt; 5"
    assert abs(int(table["eole"]["people"]) - 140) <= 2
    for code, marker in reader.markers.items():
        assert marker["people"].replace("< ", "&lt; ") == table[code]["people"], code


def test_site_demo_seed_adds_observations_to_past_shifts_once(app):
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="worker@aurore.demo")).scalar_one()
        team = next(t for t in user.teams if t.code == "aurore_est")
        started = utcnow() - dt.timedelta(days=3)
        shift = Shift(organisation_id=user.organisation_id, team=team, opened_by_id=user.id,
                      started_at=started,
                      ended_at=started + dt.timedelta(hours=3), shift_on=started.date(),
                      status="closed", sectors=list(team.sectors))
        db.session.add(shift)
        db.session.commit()
        seed_sites_demo()
        seed_sites_demo()
        db.session.commit()
        observations = db.session.execute(db.select(SiteObservation)).scalars().all()
        assert 1 <= len(observations) <= 2
        assert all(o.site.sector in team.sectors for o in observations)


def _id_of_sector(app, code):
    from outreach.models import Sector
    with app.app_context():
        return db.session.execute(db.select(Sector.id).filter_by(code=code)).scalar_one()


def _count_named(app):
    from outreach.sites.defaults import SITES
    return len(SITES)


def test_site_map_noise_follows_the_records_not_the_period(app, api):
    from outreach.shifts.services import local_date
    from outreach.sites import figures, services
    shift_id = _start_shift(api)
    assert api.post("/api/v1/site-observations",
                    json=_observation(shift_id, people_seen=40)).status_code == 201
    with app.test_request_context():
        manager = db.session.execute(
            db.select(User).filter_by(email="manager@plan.demo")).scalar_one()
        sites = [s for s in services.list_sites() if s.code == "stalingrad"]
        today = local_date(utcnow())
        published = {figures.site_figures(sites, manager,
                                          (today - dt.timedelta(days=days), today))[0].people_seen
                     for days in range(0, 60, 3)}
    # one noise for one set of records
    assert len(published) == 1 and abs(published.pop() - 40) <= 2
