"""Import of existing records: every bad row reported (line + column), all or nothing,
idempotent."""
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from outreach.extensions import db
from outreach.models import (
    AuditEvent,
    Contact,
    ContactMaterial,
    Orientation,
    Person,
    Referral,
    RollupMonthly,
    Shift,
)

HEADER = "date;time;team;sector;kind;people_count;sex;age_band;living_situation;products;needs;" \
         "materials;orientation;accompanied;programme;digest"
DIGEST_A = "a" * 64
DIGEST_B = "0123456789abcdef" * 4
GOOD = [
    ("2025-03-14;21:40;aurore_nord;stalingrad;anonymous;2;m;26_35;rue;crack|alcool;hebergement;"
     "kit_base:2|naloxone:1;csapa;oui;;"),
    ("2025-03-14;22:10;aurore_nord;chapelle;known;1;f;36_45;rue;crack;;kit_base:1;;non;assore;"
     f"{DIGEST_A}"),
    f"14/03/2025;23:00;aurore_est;jaures;known;1;m;18_25;;;;;;;;{DIGEST_B}",
    "2025-04-02;20:00;aurore_est;;refusal;1;;;;;;;;;;",
    "2025-04-02;20:00;aurore_est;;refusal;1;;;;;;;;;;",  # an identical row: two contacts, not one
    f"2025-04-03;21:00;aurore_nord;eole;known;1;f;36_45;rue;;;;;;;{DIGEST_A}",
]


def _csv(lines):
    return ("\ufeff" + "\r\n".join([HEADER] + lines) + "\r\n").encode()


def _xlsx(lines, header=HEADER):
    book = Workbook()
    sheet = book.active
    for line in [header] + lines:
        sheet.append(line.split(";"))
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _counts():
    return {
        model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar()
        for model in (Contact, Shift, Person, ContactMaterial, Orientation, Referral)}


def _snapshot():
    contacts = db.session.execute(select(Contact.id, Contact.person_id, Contact.is_first_contact)
                                  .order_by(Contact.id)).all()
    persons = db.session.execute(select(Person.code, Person.first_seen_on, Person.last_seen_on)
                                 .order_by(Person.code)).all()
    rollups = db.session.execute(
        select(RollupMonthly.month, RollupMonthly.measure, RollupMonthly.team_id,
               RollupMonthly.item_id, RollupMonthly.value)
        .order_by(*RollupMonthly.__table__.primary_key.columns)).all()
    return _counts(), contacts, persons, rollups


def _upload(client, data, name="contacts.csv", partial=False):
    form = {"file": (io.BytesIO(data), name)}
    if partial:
        form["partial"] = "y"
    return client.post("/import", data=form, content_type="multipart/form-data")


def test_a_valid_file_is_imported_with_its_details_and_roll_ups(app, client, login):
    login("supervisor@aurore.demo")
    response = _upload(client, _csv(GOOD))
    assert response.status_code == 302
    with app.app_context():
        counts = _counts()
        assert counts == {"contacts": 6, "shifts": 4, "persons": 2, "contact_materials": 3,
                          "orientations": 1, "referrals": 1}
        shifts = db.session.execute(select(Shift)).scalars().all()
        assert {s.status for s in shifts} == {"validated"}
        person_a = db.session.execute(select(Person).where(Person.id == select(Referral.person_id)
                                                           .scalar_subquery())).scalar_one()
        assert (str(person_a.first_seen_on),
                str(person_a.last_seen_on)) == ("2025-03-14", "2025-04-03")
        assert db.session.execute(select(func.sum(RollupMonthly.value))
                                  .where(RollupMonthly.measure.like("contacts_%"))).scalar() == 6
        event = db.session.execute(
            select(AuditEvent).filter_by(action="import.contacts")).scalar_one()
        assert event.details["created"] == 6


def test_planted_errors_are_each_reported_and_nothing_is_imported(app, client, login):
    login("supervisor@aurore.demo")
    bad = GOOD + [
        # line 8: date
        "2025-13-40;21:00;aurore_nord;stalingrad;anonymous;1;m;26_35;rue;;;;;;;",
        # line 9: other org's team
        "2025-03-14;21:00;gaia_mobile;stalingrad;anonymous;1;m;26_35;rue;;;;;;;",
        # line 10: sex
        "2025-03-14;21:00;aurore_nord;stalingrad;anonymous;1;z;26_35;rue;;;;;;;",
        # line 11: materials
        "2025-03-14;21:00;aurore_nord;stalingrad;anonymous;1;m;26_35;rue;;;kit_base:1001;;;;",
        # line 12: digest
        "2025-03-14;21:00;aurore_nord;stalingrad;known;1;m;26_35;rue;;;;;;;xyz",
        # line 13: time, sector
        "2025-03-14;25:99;aurore_nord;nowhere;anonymous;1;m;26_35;rue;;;;;;;",
    ]
    response = _upload(client, _csv(bad))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = [(8, "date"), (9, "team"), (10, "sex"), (11, "materials"), (12, "digest"),
                (13, "time"), (13, "sector")]
    for line, column in expected:
        assert f"<td class=\"num\">{line}</td><td>{column}</td>" in page
    assert "Rien n&#39;a été importé" in page or "Rien n'a été importé" in page
    with app.app_context():
        assert set(_counts().values()) == {0}


def test_partial_import_keeps_only_the_valid_rows(app, client, login):
    login("admin@aurore.demo")
    response = _upload(client, _csv(GOOD + ["2025-03-14;21:00;aurore_nord;;anonymous;0;;;;;;;;;;"]),
                       partial=True)
    assert response.status_code == 200
    assert "people_count" in response.get_data(as_text=True)
    with app.app_context():
        assert _counts()["contacts"] == 6


def test_the_same_file_twice_gives_the_same_database(app, client, login):
    login("supervisor@aurore.demo")
    assert _upload(client, _csv(GOOD)).status_code == 302
    with app.app_context():
        first = _snapshot()
    assert _upload(client, _csv(GOOD)).status_code == 302
    with app.app_context():
        assert _snapshot() == first
        assert db.session.execute(select(AuditEvent.details).filter_by(action="import.contacts")
                                  .order_by(AuditEvent.id.desc())).scalars().first()["created"] == 0


def test_xlsx_template_downloads_and_imports(app, client, login):
    login("supervisor@aurore.demo")
    response = client.get("/import/modele.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["contacts", "codes"]
    assert _upload(client, response.data, name="modele.xlsx").status_code == 302
    csv_template = client.get("/import/modele.csv")
    assert csv_template.data.startswith("\ufeff".encode())
    with app.app_context():
        assert _counts()["contacts"] == 1


def test_workers_and_managers_cannot_import(client, login):
    login("worker@aurore.demo")
    assert client.get("/import").status_code == 403
    assert _upload(client, _csv(GOOD)).status_code == 403


def test_command_line_import_all_or_nothing(app, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_csv(GOOD))
    bad.write_bytes(_csv(GOOD + ["2025-03-14;21:00;aurore_nord;;oops;1;;;;;;;;;;"]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-contacts", str(bad), "--organisation", "aurore"])
    assert result.exit_code != 0 and "ligne 8, colonne kind" in result.output
    with app.app_context():
        assert _counts()["contacts"] == 0
    result = runner.invoke(
        args=["import-contacts", str(bad), "--organisation", "aurore", "--partial"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import-contacts", str(good), "--organisation", "aurore"])
    assert "0 created, 6 already present" in result.output


def test_import_page_offers_the_templates_and_the_admin_row_export(client, login):
    login("admin@aurore.demo")
    page = client.get("/import").get_data(as_text=True)
    assert ("/import/modele.csv" in page and "/import/modele.xlsx" in page
            and "/export/contacts.csv" in page)
    assert "Au plus 50\u202f000 lignes par fichier" in page


def test_xlsx_errors_name_the_spreadsheet_line(app, client, login):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    sheet.append(GOOD[0].split(";"))
    sheet.append(["2025-03-14", "21:00", "aurore_nord", "", "anonymous", "1", "m", "vieux"]
                 + [""] * 8)
    data = io.BytesIO()
    book.save(data)
    login("supervisor@aurore.demo")
    response = _upload(client, data.getvalue(), name="contacts.xlsx")
    assert response.status_code == 422
    assert '<td class="num">3</td><td>age_band</td>' in response.get_data(as_text=True)
    with app.app_context():
        assert _counts()["contacts"] == 0


@pytest.mark.parametrize("app_config", [{"IMPORT_MAX_ROWS": 4}])
@pytest.mark.parametrize("name", ["contacts.csv", "contacts.xlsx"])
def test_the_web_page_refuses_a_file_over_its_row_limit_and_says_what_to_do(
        app, client, login, name, tmp_path):
    data = _csv(GOOD) if name.endswith(".csv") else _xlsx(GOOD)
    login("supervisor@aurore.demo")
    response = _upload(client, data, name=name)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Le fichier a plus de 4 lignes" in page and "import-contacts" in page
    # at the limit: imported
    assert _upload(client, _csv(GOOD[:4]), name="four.csv").status_code == 302
    path = tmp_path / "six.csv"
    path.write_bytes(_csv(GOOD))
    result = app.test_cli_runner().invoke(
        args=["import-contacts", str(path), "--organisation", "aurore"])
    # no limit there
    assert result.exit_code == 0 and "2 created, 4 already present" in result.output


@pytest.mark.parametrize(("name", "data", "message"), [
    ("contacts.xlsx", b"not a spreadsheet", "Le fichier XLSX est illisible."),
    ("contacts.xlsx", _xlsx(["2025-03-14;21:40"], header="date;time"), "(ligne 1) : team, kind."),
    ("contacts.csv", b"date;time;sector\r\n2025-03-14;21:40;stalingrad\r\n",
     "(ligne 1) : team, kind."),
    ("contacts.csv", b"date;team;kind\r\n\xe9", "Le fichier doit être encodé en UTF-8."),
])
def test_an_unreadable_file_is_refused_with_a_message_on_the_file_field(
        app, client, login, name, data, message):
    login("supervisor@aurore.demo")
    response = _upload(client, data, name=name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    with app.app_context():
        assert _counts()["contacts"] == 0
