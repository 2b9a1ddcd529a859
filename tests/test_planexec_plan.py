"""Action progress on any past date, budgets (French amounts, rights, audit), coverage and the
report card."""
import html
from datetime import date, datetime, timedelta

import pytest
from conftest import do_login

from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.models import (
    ActionStatusChange,
    AuditEvent,
    BudgetLine,
    Contact,
    Person,
    PlanAction,
    PopulationEstimate,
    Shift,
    Team,
    User,
)
from outreach.planexec import card, measures
from outreach.planexec.seed import BUDGETS
from outreach.planexec.services import parse_amount


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _action_id(app, number):
    with app.app_context():
        return db.session.execute(db.select(PlanAction.id).filter_by(number=number)).scalar_one()


# --- action progress -----------------------------------------------------------------

def _status(client, action_id, status, on, reason="suivi"):
    return client.post(f"/execution/actions/{action_id}/statut",
                       data={"status": status, "effective_on": on, "reason": reason,
                             "evidence": "CR du comité"})


def _reference_counts(day):
    """Status per action on ``day`` straight from the history rows, counted by status."""
    latest = {}
    for row in db.session.execute(db.select(ActionStatusChange)).scalars():
        if row.effective_on <= day and (row.action_id not in latest
                                        or (row.effective_on,
                                            row.id) > (latest[row.action_id].effective_on,
                                                        latest[row.action_id].id)):
            latest[row.action_id] = row
    counts = {s: 0 for s in card.STATUS_LABELS}
    for action_id in db.session.execute(db.select(PlanAction.id)).scalars():
        counts[latest[action_id].status if action_id in latest else "not_started"] += 1
    return counts


def test_statuses_are_read_on_any_past_date_from_the_history(app, client):
    do_login(client, "manager@plan.demo")
    first, second = _action_id(app, "3.3"), _action_id(app, "4.1")
    assert _status(client, first, "started", "2021-01-10").status_code == 302
    assert _status(client, first, "done", "2021-09-01", "réalisée").status_code == 302
    assert _status(client, second, "abandoned", "2021-03-01",
                   "pas de financement").status_code == 302
    with app.app_context():
        plan = card.plan_outline()
        for day, expected in ((date(2020, 12, 31), ("not_started", "not_started")),
                              (date(2021, 6, 30), ("started", "abandoned")),
                              (date(2021, 12, 31), ("done", "abandoned"))):
            cards = {c.action.id: c for axis in card.progress(plan, day) for c in axis.actions}
            assert (cards[first].status, cards[second].status) == expected
            assert card.total_counts(card.progress(plan, day)) == _reference_counts(day)
        june, december = _reference_counts(date(2021, 6, 30)), _reference_counts(date(2021, 12, 31))
    assert june != december
    page = _text(client.get("/execution/actions?au=2021-06-30"))
    engaged = sum(june[s] for s in card.ENGAGED)
    assert f"{engaged} / {sum(june.values())}" in page
    history = _text(client.get(f"/execution/actions/{first}"))
    assert "réalisée" in history and "manager@plan.demo" in history and "CR du comité" in history
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(AuditEvent)
                                  .filter_by(action="action.status")).scalar_one() == 3


def test_a_milestone_is_late_after_its_due_date_until_done_and_stays_late_in_the_past(app, client):
    do_login(client, "manager@plan.demo")
    action_id = _action_id(app, "4.1")
    response = client.post(f"/execution/actions/{action_id}/jalons",
                           data={"title": "Charte de coordination signée", "due_on": "2021-03-31",
                                 "created_on": "2021-01-01"})
    assert response.status_code == 302
    with app.app_context():
        milestone = db.session.execute(
            db.select(measures.ActionMilestone).filter_by(action_id=action_id)).scalar_one()
        milestone_id = milestone.id
    late = lambda day: [m.title for m in measures.late_milestones(day).get(action_id, [])]
    assert "Charte de coordination signée" in _text(client.get("/execution/actions?au=2021-06-30"))
    assert client.post(f"/execution/jalons/{milestone_id}/fait",
                       data={"done_on": "2021-07-15"}).status_code == 302
    with app.app_context():
        assert late(date(2021, 3, 31)) == []  # due that day: not late yet
        assert late(date(2021, 6, 30)) == ["Charte de coordination signée"]
        assert late(date(2021, 8, 1)) == []
        assert late(date(2020, 12, 1)) == []  # not yet known then
    assert ("Charte de coordination "
            "signée" not in _text(client.get("/execution/actions?au=2021-08-01")))


@pytest.mark.parametrize("data, message", [
    ({"status": "finished"}, "Statut inconnu."),
    ({"effective_on": "hier"}, "Date d'effet : date invalide (AAAA-MM-JJ)."),
    ({"reason": "  "}, "Motif : champ obligatoire."),
])
def test_a_bad_status_is_refused_in_french_and_nothing_is_written(app, client, data, message):
    do_login(client, "manager@plan.demo")
    action_id = _action_id(app, "4.1")
    form = {"status": "started", "effective_on": "2021-01-01", "reason": "x", "evidence": "",
            **data}
    response = client.post(f"/execution/actions/{action_id}/statut", data=form)
    assert response.status_code == 422 and message in _text(response)
    with app.app_context():
        assert db.session.execute(
            db.select(ActionStatusChange).filter_by(action_id=action_id)).first() is None


# --- budgets ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, cents", [
    ("1 234,50 €", 123450), ("1\u202f234,50\xa0€", 123450), ("1234.5", 123450), ("1234,05", 123405),
    ("0", 0), ("", 0), ("3 000 000", 300000000), ("12€", 1200),
])
def test_amounts_written_in_french_are_read_exactly(app, text, cents):
    with app.test_request_context():
        assert parse_amount(text, "spent", "Le montant payé") == cents


@pytest.mark.parametrize("text, message", [
    ("-5", "Le montant payé ne peut pas être négatif."),
    ("-1 234,50 €", "Le montant payé ne peut pas être négatif."),
    ("1.234,50", "Le montant payé : montant illisible"),
    ("12,345", "Le montant payé : montant illisible"),
    ("1e6", "Le montant payé : montant illisible"), ("€ 12", "Le montant payé : montant illisible"),
    ("12 34", "Le montant payé : montant illisible"),
])
def test_unreadable_or_negative_amounts_are_refused_naming_the_field(app, text, message):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        parse_amount(text, "spent", "Le montant payé")
    assert refused.value.errors["spent"].startswith(message)


def _budget(app, **values):
    data = {"action": str(_action_id(app, "3.3")), "funder": "ars", "year": "2022",
            "planned": "100 000", "committed": "120 000,50 €", "spent": "90 000"}
    data.update(values)
    return data


def _line(app):
    with app.app_context():
        line = db.session.execute(db.select(BudgetLine).filter_by(year=2022)).scalar_one_or_none()
        return None if line is None else (line.planned_cents, line.committed_cents,
                                          line.spent_cents)


def test_a_budget_line_is_saved_replaced_and_audited(app, client):
    do_login(client, "manager@plan.demo")
    assert client.post("/execution/budgets", data=_budget(app)).status_code == 302
    assert _line(app) == (10_000_000, 12_000_050, 9_000_000)
    assert client.post("/execution/budgets", data=_budget(app, spent="130 000")).status_code == 302
    assert _line(app) == (10_000_000, 12_000_050, 13_000_000)
    page = _text(client.get("/execution/budgets"))
    assert "130\u202f000 €" in page
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent).filter_by(action="budget.save")
                                    .order_by(AuditEvent.id)).scalars().all()
        assert [e.before for e in events] == [None, "10000000 / 12000050 / 9000000"]
        assert events[1].after == "10000000 / 12000050 / 13000000"


@pytest.mark.parametrize("field, value, message", [
    ("committed", "-3", "Le montant engagé ne peut pas être négatif."),
    ("planned", "1.000,00", "Le montant prévu : montant illisible"),
    ("funder", "banque", "Financeur inconnu."),
    ("year", "deux mille", "L'année : entrez un nombre entier."),
])
def test_bad_budget_input_is_refused_in_french_and_nothing_is_written(app, client, field, value,
                                                                      message):
    do_login(client, "manager@plan.demo")
    response = client.post("/execution/budgets", data=_budget(app, **{field: value}))
    assert response.status_code == 422 and message in _text(response)
    assert _line(app) is None


@pytest.mark.parametrize("email", ["worker@aurore.demo", "supervisor@aurore.demo"])
def test_only_plan_managers_and_admins_edit_budgets(app, client, email):
    do_login(client, email)
    assert client.post("/execution/budgets", data=_budget(app)).status_code == 403
    assert _line(app) is None


# --- coverage --------------------------------------------------------------------------

def _meet(app, persons):
    with app.app_context():
        team = db.session.execute(db.select(Team).filter_by(code="gaia_mobile")).scalar_one()
        worker = db.session.execute(
            db.select(User).filter_by(email="worker@gaia.demo")).scalar_one()
        day = card.today() - timedelta(days=30)
        start = datetime.combine(day, datetime.min.time())
        shift = Shift(organisation_id=team.organisation_id, team_id=team.id, opened_by_id=worker.id,
                      started_at=start, shift_on=day, status="validated")
        for n in range(persons):
            person = Person(code=f"c{n:063x}", first_seen_on=day)
            for _ in range(2):  # met twice: counted once
                db.session.add(
                    Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                            occurred_at=start, occurred_on=day, kind="known", person=person,
                            created_by_id=worker.id))
        db.session.add(Contact(shift=shift, organisation_id=team.organisation_id, team_id=team.id,
                               occurred_at=start,
                               occurred_on=day, kind="anonymous", people_count=3,
                               created_by_id=worker.id))
        db.session.commit()


def _estimate(client, **values):
    data = {"estimated_on": (card.today() - timedelta(days=10)).isoformat(),
            "area": "Nord-est parisien", "low": "10", "high": "20", "source": "Comptage de test"}
    data.update(values)
    return client.post("/execution/estimations", data=data)


def test_coverage_is_persons_met_over_twelve_months_against_the_estimate_as_a_range(app, client):
    _meet(app, 8)
    do_login(client, "manager@plan.demo")
    assert _estimate(client).status_code == 302
    page = _text(client.get("/execution/estimations"))
    assert "40\xa0% – 80\xa0%" in page and "Comptage de test" in page
    assert _estimate(client, high="").status_code == 302  # a single value
    assert "80\xa0%" in _text(client.get("/execution/"))


def test_coverage_of_a_small_count_is_not_shown(app, client):
    _meet(app, 3)
    do_login(client, "manager@plan.demo")
    _estimate(client)
    page = _text(client.get("/execution/estimations"))
    assert "< 5" in page and "%" not in page.split('id="coverage"')[1].split("</p>")[0]


@pytest.mark.parametrize("values, message", [
    ({"low": "-700"}, "L'estimation basse : la valeur ne peut pas être négative."),
    ({"low": "800", "high": "700"}, "L'estimation haute ne peut pas être inférieure à la basse."),
    ({"source": ""}, "Source : champ obligatoire."),
])
def test_a_bad_estimate_is_refused(app, client, values, message):
    do_login(client, "manager@plan.demo")
    response = _estimate(client, **values)
    assert response.status_code == 422 and message in _text(response)
    with app.app_context():
        assert db.session.execute(
            db.select(PopulationEstimate).filter_by(source="Comptage de test")).first() is None


# --- the report card ------------------------------------------------------------------------

def test_the_report_card_of_the_demo_plan_compares_spending_with_the_initial_commitment(
        app, client):
    do_login(client, "manager@plan.demo")
    page = _text(client.get("/execution/?from=2021-01-01&to=2021-12-31"))
    planned = sum(b[3] for b in BUDGETS if b[2] == 2021)
    spent = sum(b[5] for b in BUDGETS if b[2] == 2021)
    assert spent > planned  # the demo budget overruns, as the audit found
    assert (f"{spent:,} €".replace(",", "\u202f") in page
            and f"{planned:,} €".replace(",", "\u202f") in page)
    assert "px-over" in page and "Places et occupation" in page and "Couverture" in page
    assert "css/planexec.css" in page  # the A4 print rules
    with app.app_context():
        counts = _reference_counts(date(2021, 12, 31))
    assert f"{sum(counts[s] for s in card.ENGAGED)} / {sum(counts.values())}" in page


def test_a_period_that_ends_before_it_starts_is_refused(app, client):
    do_login(client, "manager@plan.demo")
    response = client.get("/execution/?from=2021-12-31&to=2021-01-01")
    assert (response.status_code == 422
            and "Début de période : il doit précéder la fin." in _text(response))


def test_the_report_card_downloads_as_xlsx_with_its_definitions_and_is_audited(app, client):
    from io import BytesIO

    from openpyxl import load_workbook
    do_login(client, "manager@plan.demo")
    response = client.get("/execution/tableau.xlsx?from=2021-01-01&to=2021-12-31")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert {"Actions", "Statuts", "Budget", "Places", "Couverture",
            "définitions"} <= set(book.sheetnames)
    budget = {row[0]: row[1:] for row in book["Budget"].iter_rows(min_row=2, values_only=True)}
    planned = sum(b[3] for b in BUDGETS if b[2] == 2021)
    spent = sum(b[5] for b in BUDGETS if b[2] == 2021)
    assert budget["Total"][0] == planned and budget["Total"][2] == spent
    definitions = " ".join(str(r[1]) for r in book["définitions"].iter_rows(values_only=True) if r
                           and r[1])
    assert "nuitées occupées ÷ nuitées-places" in definitions and "Retour à la rue" in definitions
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).filter_by(action="export.plan_card")).scalar_one()
        assert event.details["to"] == "2021-12-31"


def _upload(client, text):
    from io import BytesIO
    return client.post("/execution/budgets/import",
                       data={"file": (BytesIO(text.encode("utf-8")), "budgets.csv")},
                       content_type="multipart/form-data")


def _budget_count(app):
    with app.app_context():
        return db.session.execute(db.select(db.func.count()).select_from(BudgetLine)).scalar_one()


def test_a_budget_file_is_imported_whole_and_importing_it_again_changes_nothing(app, client):
    do_login(client, "manager@plan.demo")
    text = ("action;funder;year;planned;committed;spent\n"
            "3.3;ars;2022;100 000;120 000,50 €;90 000\n"
            "4.1;mildeca;2022;5 000,00;;\n")
    before = _budget_count(app)
    assert _upload(client, text).status_code == 302
    assert _budget_count(app) == before + 2
    exported = client.get("/execution/budgets.csv").get_data(as_text=True)
    assert "3.3;ars;2022;100000,00;120000,50;90000,00" in exported
    with app.app_context():
        audited = db.session.execute(db.select(db.func.count()).select_from(AuditEvent)
                                     .filter_by(action="budget.save")).scalar_one()
    # every line, the demo's too
    assert _upload(client, exported.lstrip("\ufeff")).status_code == 302
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(AuditEvent)
                                  .filter_by(action="budget.save")).scalar_one() == audited
    assert _budget_count(app) == before + 2


def test_a_budget_file_with_one_bad_line_imports_nothing_and_names_each_problem(app, client):
    do_login(client, "manager@plan.demo")
    before = _budget_count(app)
    response = _upload(client, "action;funder;year;planned;committed;spent\n"
                               "3.3;ars;2022;100 000;0;0\n"
                               "3.3;banque;2022;1;1;1\n"
                               "9.9;ars;2022;1;-4;1\n")
    page = _text(response)
    assert response.status_code == 422
    assert "Ligne 3 : Financeur inconnu." in page and "Ligne 4 : Action inconnue." in page
    assert _budget_count(app) == before


def test_a_budget_file_without_the_expected_columns_is_refused(app, client):
    do_login(client, "manager@plan.demo")
    response = _upload(client, "action,funder,year,planned,committed,spent\n3.3,ars,2022,1,1,1\n")
    assert response.status_code == 422 and "Colonnes manquantes" in _text(response)


def test_cost_per_place_night_divides_spending_by_the_places_of_the_actions_programmes(app, client):
    from io import BytesIO

    from openpyxl import load_workbook

    from outreach.planexec.seed import CAPACITY
    do_login(client, "manager@plan.demo")
    book = load_workbook(
        BytesIO(client.get("/execution/tableau.xlsx?from=2021-03-01&to=2021-10-31").data))
    rows = {row[1]: row for row in book["Actions"].iter_rows(min_row=2, values_only=True)}
    nights, day = 0, date(2021, 1, 1)
    # the ASSORE places of each day of the budget year, from the demo register
    while day.year == 2021:
        nights += max((r for r in CAPACITY if r[0] == "assore" and date.fromisoformat(r[2]) <= day),
                      key=lambda r: r[2])[3]
        day += timedelta(days=1)
    spent = sum(b[5] for b in BUDGETS if b[0] == "2.1" and b[2] == 2021)
    assert rows["2.1"][-1] == round(spent / nights, 2)
    assert rows["4.2"][-1] is None  # no programme: no cost per place-night


def test_two_dates_are_compared_side_by_side(app, client):
    do_login(client, "manager@plan.demo")
    response = client.get("/execution/actions?au=2021-06-30&au=2021-12-31")
    page = _text(response)
    assert response.status_code == 200
    compared = page[page.index('id="compared"'):]
    with app.app_context():
        june, december = _reference_counts(date(2021, 6, 30)), _reference_counts(date(2021, 12, 31))
    for counts in (june, december):
        assert f"{sum(counts[s] for s in card.ENGAGED)} / {sum(counts.values())}" in compared
    # an empty second date
    assert client.get("/execution/actions?au=2021-06-30&au=").status_code == 200
    assert client.get("/execution/actions?au=2021-06-31").status_code == 422


def test_the_xlsx_budget_template_imports_back_and_a_typed_amount_is_exact(app, client):
    import io

    from openpyxl import load_workbook
    do_login(client, "manager@plan.demo")
    data = client.get("/execution/budgets.xlsx").get_data()
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["action", "funder", "year", "planned", "committed",
                                           "spent"]
    sheet.append(["3.3", "ars", 2022, 1234.5, "2 000,10 €", 0])
    out = io.BytesIO()
    book.save(out)
    before = _budget_count(app)
    response = client.post("/execution/budgets/import",
                           data={"file": (io.BytesIO(out.getvalue()), "budgets.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, _text(response)[-800:]
    assert _budget_count(app) == before + 1
    with app.app_context():
        line = db.session.execute(
            db.select(BudgetLine).join(PlanAction).filter(PlanAction.number == "3.3")
            ).scalar_one()
        assert (line.planned_cents, line.committed_cents, line.spent_cents) == (123_450, 200_010, 0)
    sheet.append(["3.3", "banque", 2023, 1, 1, 1])
    out = io.BytesIO()
    book.save(out)
    response = client.post("/execution/budgets/import",
                           data={"file": (io.BytesIO(out.getvalue()), "budgets.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "Financeur inconnu." in _text(response)
    assert _budget_count(app) == before + 1
