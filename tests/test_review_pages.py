"""Review pages: corrections checked against the reference lists (4xx in French, never a 500),
French labels, board paging, week view equal to direct SQL counts, print marks and CSP-safe
charts."""
import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import text
from test_review_services import START, make_contact, make_person, make_shift

from outreach.extensions import db
from outreach.models import AuditEvent, Contact, Referral, RefItem, Sector, Shift
from outreach.review import services


def _setup(app):
    with app.app_context():
        shift = make_shift()
        contact = make_contact(shift, 10)
        inactive = Sector(code="ancien", label="Ancien secteur", is_active=False)
        db.session.add(inactive)
        db.session.commit()
        ids = {"shift": shift.id, "contact": contact.id, "inactive_sector": inactive.id,
               "material": db.session.execute(
                   db.select(RefItem.id).filter_by(kind="material")).scalars().first(),
               "living": db.session.execute(
                   db.select(RefItem).filter_by(kind="living_situation")).scalars().first(),
               "sector": db.session.execute(
                   db.select(Sector).filter_by(is_active=True)).scalars().first()}
        ids["living"], ids["sector"] = (ids["living"].id,
                                        ids["living"].code), (ids["sector"].id, ids["sector"].code)
        return ids


def _correct(client, cid, field, value):
    """The correction form as a browser posts it: the changed field under its own name, with the
    reason."""
    return client.post(f"/revue/contact/{cid}/corriger", data={field: value, "reason": "test"})


BAD = [
    ("sector_id", "999999", "Secteur"),
    ("sector_id", "inactive", "Secteur"),
    ("sector_id", "pas-un-code", "Secteur"),
    ("sector_id", "99999999999999999999", "Secteur"),
    ("living_situation_id", "material", "Situation de logement"),  # an id of another list
    ("living_situation_id", "424242", "Situation de logement"),
    ("people_count", "99999999999999999999", "Nombre de personnes"),
    ("people_count", "0", "Nombre de personnes"),
    ("people_count", "²", "Nombre de personnes"),
    ("sector_id", "²", "Secteur"),
    ("sex", "z", "Sexe"),
    ("material-424242", "2", "Matériel"),
    ("material-abc", "2", "Matériel"),
    ("material-material", "99999999999", "Matériel"),
    ("material-material", "-1", "Matériel"),
]


def test_bad_corrections_are_refused_in_french(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    for field, value, label in BAD:
        value = {"inactive": str(ids["inactive_sector"]),
                 "material": str(ids["material"])}.get(value, value)
        field = field.replace("material-material", f"material-{ids['material']}")
        response = _correct(client, ids["contact"], field, value)
        assert response.status_code == 422, (field, value)
        assert label in response.get_data(as_text=True), (field, value)
    with app.app_context():
        contact = db.session.get(Contact, ids["contact"])
        assert (contact.sector_id, contact.living_situation_id, contact.people_count,
                contact.sex) == (None, None, 1, None)
        assert not contact.materials
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="contact.correct")).first() is None


def test_reference_corrections_by_id_or_code(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    assert _correct(client, ids["contact"], "sector_id", ids["sector"][1]).status_code == 302
    assert _correct(client, ids["contact"], "living_situation_id",
                    str(ids["living"][0])).status_code == 302
    with app.app_context():
        contact = db.session.get(Contact, ids["contact"])
        assert (contact.sector_id, contact.living_situation_id) == (ids["sector"][0],
                                                                    ids["living"][0])
    page = client.get(f"/revue/maraude/{ids['shift']}").get_data(as_text=True)
    trail = page[page.index('id="trail"'):]
    assert "Secteur" in trail and "Situation de logement" in trail and "sector_id" not in trail


def _selects(html):
    """{select name: [(value, label, selected)]} of a page."""
    found = {}
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.DOTALL):
        found[name] = [(v, unescape(t), bool(sel)) for v, sel, t in
                       re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', body)]
    return found


def test_coded_fields_are_corrected_with_a_select_of_their_labels(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    summary = client.get(f"/revue/maraude/{ids['shift']}").get_data(as_text=True)
    row = re.search(r'<li id="contact-([^"]+)"><a class="row-link" href="([^"]+)"', summary)
    assert row and row.group(1) == ids["contact"]  # the row is the way to its correction form
    page = client.get(row.group(2)).get_data(as_text=True)
    selects = _selects(page)
    assert [(v, t) for v, t, _ in selects["age_band"] if v] == [
        ("u18", "moins de 18 ans"), ("18_25", "18-25 ans"), ("26_35", "26-35 ans"),
        ("36_45", "36-45 ans"),
        ("46_55", "46-55 ans"), ("o55", "plus de 55 ans"), ("unknown", "âge inconnu")]
    assert [t for v, t, sel in selects["kind"] if sel] == ["Personne"]
    assert [t for v, t, sel in selects["age_band"] if sel] == ["— non renseigné —"]
    assert {t for _, t, _ in selects["sex"]} >= {"Femme", "Homme"}
    assert (str(ids["sector"][0]), True) in {(v, True) for v, _, _ in selects["sector_id"]}
    assert str(ids["inactive_sector"]) not in {v for v, _, _ in selects["sector_id"]}
    # no free text answered by a list of codes
    assert "attendu" not in page and 'list="' not in page
    assert 'href="/maraude/contacts/' in page and "Modifier tout le contact" in page
    response = client.post(row.group(2),
                           data={"age_band": "26_35", "sector_id": str(ids["sector"][0]),
                                 "kind": "known", "reason": "relu avec l'équipe"})
    assert response.status_code == 302 and response.location.endswith(f"#contact-{ids['contact']}")
    with app.app_context():
        contact = db.session.get(Contact, ids["contact"])
        assert (contact.age_band, contact.sector_id,
                contact.kind) == ("26_35", ids["sector"][0], "known")
        fields = sorted(e.field for e in db.session.execute(db.select(AuditEvent).filter_by(
            action="contact.correct")).scalars())
        assert fields == ["age_band", "sector_id"]  # the unchanged kind is not a correction
    summary = client.get(f"/revue/maraude/{ids['shift']}").get_data(as_text=True)
    assert "26-35 ans" in summary[summary.index('id="contacts"'):]


def test_the_correction_form_refuses_in_place_and_keeps_what_was_typed(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    url = f"/revue/contact/{ids['contact']}/corriger"
    response = client.post(url, data={"people_count": "0", "age_band": "o55", "reason": "x"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Nombre de personnes" in html
    assert 'id="field-people_count" aria-invalid="true"' in html
    assert [t for v, t, sel in _selects(html)["age_band"] if sel] == ["plus de 55 ans"]
    nothing = client.post(url, data={"age_band": "", "reason": "x"})
    assert (nothing.status_code == 422
            and "Aucune valeur n'a changé" in unescape(nothing.get_data(as_text=True)))
    no_reason = client.post(url, data={"age_band": "o55", "reason": " "})
    assert (no_reason.status_code == 422
            and "Le motif est obligatoire" in no_reason.get_data(as_text=True))
    too_long = client.post(url, data={"age_band": "o55", "reason": "x" * 501})
    assert (too_long.status_code == 422
            and "Le motif dépasse 500 caractères" in too_long.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Contact, ids["contact"]).age_band is None
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="contact.correct")).first() is None


def test_print_marks_and_no_inline_styles(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    page = client.get(f"/revue/maraude/{ids['shift']}").get_data(as_text=True)
    assert re.search(r'<section class="[^"]*no-print[^"]*" id="contacts"', page)
    actions = page[page.index('id="validate"') - 400:page.index('id="validate"')]
    assert 'class="card no-print actions"' in actions
    assert 'id="summary"' in page and not re.search(r'class="[^"]*no-print[^"]*" id="summary"',
                                                    page)
    with app.app_context():
        team_id = db.session.get(Shift, ids["shift"]).team_id
    for url in ("/revue/", f"/revue/maraude/{ids['shift']}",
                f"/revue/semaine/{team_id}?week=2026-11-16"):
        html = client.get(url).get_data(as_text=True)
        # CSP style-src without unsafe-inline blocks them
        assert not re.search(r"\sstyle\s*=", html), url
        assert "<script>" not in html


def test_board_pages_reach_older_shifts(app, client, login, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 3)
    with app.app_context():
        days = [make_shift(started=START - timedelta(days=i),
                           ended=START - timedelta(days=i) + timedelta(hours=3))
                for i in range(7)]
        db.session.commit()
        ids = [s.id for s in days]  # newest first
    login("supervisor@aurore.demo")
    seen = []
    url = "/revue/?status=closed"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'href="/revue/maraude/([^"]+)"', html)
        older = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = older and older.group(1).replace("&amp;", "&")
        assert url is None or "status=closed" in url
    assert seen == ids
    assert client.get("/revue/?page=abc").status_code == 200
    assert client.get("/revue/?page=-4").status_code == 200
    assert "Aucune maraude" in client.get("/revue/?page=99").get_data(as_text=True)


def _week_rows(html):
    body = html[html.index('id="week"'):]
    return re.findall(r'<tr><th scope="row"><time '
                      r'datetime="(\d{4}-\d\d-\d\d)">[^<]+</time></th><td '
                      r'class="num">(\d+)</td><td class="num">(\d+)</td><td '
                      r'class="num">(\d+)</td><td class="num">(\d+) / (\d+) / (\d+)</td>', body)


def _sql_day(team_id, day):
    params = {"team": team_id, "day": day}
    contacts = db.session.execute(text(
        "select count(*), count(distinct person_id) from contacts where team_id = :team and "
        "occurred_on = :day"),
        params).one()
    referrals = db.session.execute(text(
        "select count(*) from referrals r join contacts c on c.id = r.contact_id "
        "where c.team_id = :team and c.occurred_on = :day"), params).scalar()
    return (contacts[0], contacts[1], referrals)


def test_week_view_equals_sql_counts(app, client, login):
    week = date(2026, 11, 16)  # a Monday
    with app.app_context():
        programme = db.session.execute(
            db.select(RefItem.id).filter_by(kind="programme")).scalars().first()
        people = [make_person(c) for c in "abcd"]
        # previous week, week, next
        for offset, count in ((-6, 2), (-1, 3), (0, 4), (2, 1), (6, 5), (7, 2)):
            started = START.replace(year=week.year, month=week.month,
                                    day=week.day) + timedelta(days=offset)
            shift = make_shift(started=started, ended=started + timedelta(hours=3))
            for i in range(count):
                contact = make_contact(shift, 5 + i, person=people[i % 3] if i % 4 != 3 else None,
                                       kind="known" if i % 4 != 3 else "anonymous")
                if i % 2 == 0:
                    db.session.add(
                        Referral(contact_id=contact.id, organisation_id=shift.organisation_id,
                                 programme_id=programme, proposed_on=started.date(),
                                 updated_at=started))
        other = make_shift(team_code="aurore_est", started=START.replace(day=17))
        make_contact(other, 5)
        db.session.commit()
        team_id = shift.team_id
    login("supervisor@aurore.demo")
    rows = _week_rows(
        client.get(f"/revue/semaine/{team_id}?week=2026-11-18").get_data(as_text=True))
    assert len(rows) == 7
    with app.app_context():
        for i, (day, *numbers) in enumerate(rows):
            current = week + timedelta(days=i)
            assert day == current.isoformat()
            expected = _sql_day(team_id, current) + _sql_day(team_id, current - timedelta(days=7))
            assert tuple(int(n) for n in numbers) == expected, day
    assert [r[1] for r in rows] == ["4", "0", "1", "0", "0", "0", "5"]
    assert [r[4] for r in rows] == ["0", "2", "0", "0", "0", "0", "3"]


def test_materials_are_folded_unless_the_contact_has_some_or_one_was_refused(app, client, login):
    ids = _setup(app)
    login("supervisor@aurore.demo")
    url = f"/revue/contact/{ids['contact']}/corriger"
    assert '<details id="materials">' in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={f"material-{ids['material']}": "-1", "reason": "x"})
    assert (refused.status_code == 422
            and '<details id="materials" open>' in refused.get_data(as_text=True))
    assert (client.post(
        url, data={f"material-{ids['material']}": "3", "reason": "kits"}).status_code == 302)
    page = client.get(url).get_data(as_text=True)
    assert ('<details id="materials" open>' in page
            and f'value="3" name="material-{ids["material"]}"' in page)
    with app.app_context():
        assert [(m.material_id, m.quantity)
                for m in db.session.get(Contact, ids["contact"]).materials] == [
            (ids["material"], 3)]


def test_the_board_filters_a_team_by_its_code_and_names_an_unknown_one(client, login):
    """The board takes a team's code, as the indicator pages, the exports and the API do; an
    unknown code is a 400 naming it, not a board of every team."""
    login("supervisor@aurore.demo")
    page = client.get("/revue/").get_data(as_text=True)
    assert 'value="aurore_nord"' in page
    chosen = client.get("/revue/?team=aurore_nord").get_data(as_text=True)
    assert 'value="aurore_nord" selected' in chosen
    refused = client.get("/revue/?team=nowhere")
    assert refused.status_code == 400 and "nowhere" in refused.get_data(as_text=True)
