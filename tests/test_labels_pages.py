"""No internal code in the interface: every page of every role, rendered over a year of demo
history with corrections, validations and account changes, shows words ("clôturée", "Contact
corrigé", "Compte …"), never "closed", "contact.correct", "users 12" or a UUID (walks app.url_map
as tests/test_access.py does)."""
import io
import re
from datetime import UTC
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from outreach import labels
from outreach.admin import services as admin_services
from outreach.contract import local_today
from outreach.extensions import db
from outreach.indicators.synthetic import build_demo_history
from outreach.models import (
    AuditEvent,
    Contact,
    Indicator,
    Organisation,
    PlanAction,
    Referral,
    Shift,
    Team,
    User,
)
from outreach.review import services as review
from tests.conftest import do_login
from tests.test_access import DEMO_BY_ROLE, _routes

FAMILIES = ("shift_status", "contact_kind", "referral_status", "role", "action_status",
            "audit_action", "age_band")
FRENCH_WORDS = {"purge"}  # a code that is also the French word its label starts with
CODES = sorted({c for f in FAMILIES for c in labels.codes(f) if len(c) > 3
                and c not in FRENCH_WORDS} | {"u18", "o55"},
               key=len, reverse=True)
CODE = re.compile(r"(?<![\w.@-])(" + "|".join(map(re.escape, CODES)) + r")(?![\w@-])")
TARGET = re.compile(r"\b(" + "|".join(labels.AUDIT_TARGET) + r") (?:\d+\b|[0-9a-f]{8}-)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EMAIL = re.compile(r"\S+(?:@|%40)\S+")  # addresses, also inside the TOTP link


class VisibleText(HTMLParser):
    """Text a person sees: no script, style or template content, no attributes; a <code> element
    shows a code on purpose (the columns of an import file, a list item's code to type in one)."""
    HIDDEN = frozenset({"script", "style", "template", "head", "code"})

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.depth -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return EMAIL.sub(" ", " ".join(parser.parts))


def codes_in(text, code=CODE):
    return sorted(set(code.findall(text)) | set(TARGET.findall(text)) | set(UUID.findall(text)))


def english_code_pattern():
    """Most codes are English words ("closed", "known"), natural in English prose: in English,
    look for the codes no sentence holds ("partly_done", "contact.correct", "18_25")."""
    kept = [c for c in CODES if not c.isalpha()]
    return re.compile(r"(?<![\w.@-])(" + "|".join(map(re.escape, kept)) + r")(?![\w@-])")


def _by_email(email):
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


@pytest.fixture
def history(app):
    return make_history(app)


def make_history(app):
    """A year of demo history, then what leaves a trail: corrections, validations, account
    changes; returns the values of every route argument (a shift, contact, referral, team, user,
    indicator...)."""
    with app.test_request_context():
        build_demo_history(today=local_today(), per_day=4)
        supervisor, admin = _by_email("supervisor@aurore.demo"), _by_email("admin@aurore.demo")
        aurore = db.session.execute(db.select(Organisation).filter_by(code="aurore")).scalar_one()
        # a known person's contact, on the latest closed shift that has one, chosen in a set order:
        # without ORDER BY, PostgreSQL could hand an anonymous contact, whose "correction" to
        # anonymous records nothing
        contact = db.session.execute(
            db.select(Contact).join(Shift, Shift.id == Contact.shift_id)
            .where(Shift.organisation_id == aurore.id, Shift.status == "closed",
                   Contact.kind == "known")
            .order_by(Shift.shift_on.desc(), Shift.id, Contact.occurred_at, Contact.id)
        ).scalars().first()
        shift = contact.shift
        review.correct_contact(contact, supervisor, "kind", "anonymous", "deux personnes")
        review.correct_contact(contact, supervisor, "sector_id", str(shift.team.sectors[0].id),
                               "secteur")
        review.correct_contact(contact, supervisor, "age_band", "26_35", "âge")
        review.validate_shift(shift, supervisor)
        review.unvalidate_shift(shift, supervisor, "relecture")
        review.validate_shift(shift, supervisor)
        worker = _by_email("worker@aurore.demo")
        admin_services.change_role(admin, worker, "supervisor")
        admin_services.change_role(admin, worker, "worker")
        admin_services.change_teams(admin, worker, [worker.teams[0].id])
        admin_services.unlock_user(admin, worker)
        db.session.commit()
        referral = db.session.execute(
            db.select(Referral).filter_by(organisation_id=aurore.id, status="refused")
            ).scalars().first()
        handover = _received_handover(aurore)  # issue 21: a referral Gaïa handed over to Aurore
        return {"shift_id": shift.id, "contact_id": contact.id, "referral_id": referral.id,
                "handover_id": handover.id,
                "team_id": shift.team_id, "user_id": worker.id,
                "code": db.session.execute(db.select(Indicator.code)).scalars().first(),
                "token": "x", "fmt": "csv", "kind": "material",
                "action_id": db.session.execute(db.select(PlanAction.id)).scalars().first()}


def _received_handover(aurore):
    from outreach.referrals.handover import hand_over
    gaia = _by_email("supervisor@gaia.demo")
    referral = db.session.execute(db.select(Referral).filter(
        Referral.organisation_id == gaia.organisation_id,
        Referral.status.in_(("proposed", "accepted", "admitted")))
        .order_by(Referral.proposed_on.desc())).scalars().first()
    handover = hand_over(referral, gaia, aurore.id, local_today())
    db.session.commit()
    return handover


def page_urls(app, values):
    """The URL of every GET route but the API, logout and language switch, with real arguments."""
    for rule, method in _routes(app):
        if method == "GET" and rule.endpoint not in ("auth.logout", "set_language") \
                and not rule.rule.startswith("/api/"):
            yield rule, _url(rule, values)


def _url(rule, values):
    args = {name: values.get(name, "x") for name in rule.arguments}
    return rule.build(args, append_unknown=False)[1]


@pytest.mark.parametrize("role", list(DEMO_BY_ROLE))
def test_no_page_shows_an_internal_code(app, history, role):
    """Both languages on one history (a year of it costs seconds to build)."""
    client = app.test_client()
    client.post("/connexion", data={"email": "worker@aurore.demo", "password": "wrong password"})
    do_login(client, DEMO_BY_ROLE[role])
    for lang in ("fr", "en"):
        client.set_cookie("lang", lang)
        pattern = CODE if lang == "fr" else english_code_pattern()
        found, pages = {}, 0
        for rule, url in page_urls(app, history):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            pages += 1
            codes = codes_in(visible_text(response.get_data(as_text=True)), pattern)
            if codes:
                found[rule.rule] = codes
        assert pages >= 4, lang
        assert found == {}, f"internal codes shown to a {role} ({lang}): {found}"


def test_the_checker_finds_the_codes_the_issue_names():
    text = visible_text("<p>État : closed → validated · contact.correct "
                        "<b>partly_done</b></p><td>users 12</td><script>var kind = "
                        "'known'</script><p>worker@aurore.demo</p>"
                        "<p>c0ffee00-1234-4abc-8def-0123456789ab</p>")
    assert codes_in(text) == ["c0ffee00-1234-4abc-8def-0123456789ab", "closed", "contact.correct",
                              "partly_done", "users", "validated"]


def test_the_summary_and_its_corrections_speak_in_words_and_paris_time(app, history, client):
    do_login(client, "supervisor@aurore.demo")
    html = client.get(f"/revue/maraude/{history['shift_id']}").get_data(as_text=True)
    text = visible_text(html)
    assert "validée" in text and "Maraude validée" in text and "Validation retirée" in text
    assert "Contact corrigé" in text and "Type de contact : Personne → Passage anonyme" in text
    assert "Tranche d'âge" in text and "26-35 ans" in text
    assert "Heures de Paris" in text and "Intervenant·es : " in text
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="shift.unvalidate")).scalars().first()
        with app.test_request_context():
            shown = labels.paris_datetime(event.occurred_at)
    assert shown in text
    paris = event.occurred_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert paris.strftime("%H:%M") in shown


def test_the_audit_log_names_its_targets(app, history, client):
    do_login(client, "admin@aurore.demo")
    text = visible_text(client.get("/admin/journal").get_data(as_text=True))
    assert "Rôle changé" in text and "Coordinateur·rice → Intervenant·e" in text
    with app.app_context():
        team = db.session.get(Team, history["team_id"])
        assert f"Maraude {team.name}" in text
    assert "Date (heure de Paris)" in text


def test_the_xlsx_definitions_name_their_filters_in_words(app, client):
    do_login(client, "manager@plan.demo")
    book = load_workbook(io.BytesIO(client.get("/export/indicateurs.xlsx").data))
    cells = [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for v in row if v]
    assert not [c for c in cells if re.search(r"\b(material|programme|destination)=", c)]
    assert "Matériel : Kit base" in " ".join(cells) and "Dispositif : ASSORE" in " ".join(cells)


def test_the_audit_log_shows_and_filters_paris_days(app, client):
    from datetime import datetime

    from outreach import audit
    with app.app_context():
        admin = _by_email("admin@aurore.demo")
        event = audit.record("password_changed", actor=admin, target=admin)
        event.occurred_at = datetime(2026, 6, 1, 22, 30)  # UTC: 2 June, 00:30 in Paris
        db.session.commit()
    do_login(client, "admin@aurore.demo")

    def rows(day):
        html = client.get(f"/admin/journal?start={day}&end={day}").get_data(as_text=True)
        return visible_text(html[html.index("<tbody>"):])
    on_the_2nd = rows("2026-06-02")
    assert ("Mot de passe changé" in on_the_2nd and "2 juin 2026" in on_the_2nd
            and "00:30" in on_the_2nd)
    assert "Mot de passe changé" not in rows("2026-06-01")
