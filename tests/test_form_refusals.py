"""One home for "nothing written, the form again naming what was refused"
(``outreach.views.attempt``) in the tally, referral, handover and sign-off views, and one home
for the refused fields' labels (``outreach.labels.FIELD``): a refusal says why in words, never
with a field's code."""
import html
import re

from conftest import do_login
from test_referrals import _client, _step, make_referral

from outreach.extensions import db
from outreach.labels import errors_text
from outreach.models import Organisation
from outreach.referrals import services


def test_a_worker_asking_to_undo_a_step_is_told_why_on_the_referral_page(app):
    """Before, a bare 403 page ("Vous n'avez pas accès à cette page"): the reason was lost."""
    rid = make_referral(app)
    worker = _client(app, "worker@aurore.demo")
    assert _step(worker, rid, "accepted", services.today()).status_code == 302
    response = worker.post(f"/orientations/{rid}/annuler-etape", data={"undo_reason": "erreur"})
    assert response.status_code == 403
    assert "Motif de l'annulation : Seul·e un·e coordinateur·rice peut annuler une étape." \
        in _text(response)


def test_a_refused_handover_names_its_fields_in_words(app):
    rid = make_referral(app)
    client = app.test_client()
    do_login(client, "supervisor@aurore.demo")
    response = client.post(f"/orientations/{rid}/transmettre",
                           data={"to_organisation": str(_gaia(app)),
                                 "handed_over_on": "2999-01-01"})
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert "Date de transmission : La date ne peut pas être dans le futur." in page
    assert "handed_over_on" not in page


def test_a_field_with_no_label_shows_its_message_alone(app):
    with app.test_request_context():
        text = errors_text({"x_internal": "Valeur refusée.", "occurred_on": "Date invalide."})
    assert text == "Valeur refusée. Date : Date invalide."


def _text(response):
    """What a reader sees: the page without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _gaia(app):
    with app.app_context():
        return db.session.execute(db.select(Organisation.id).filter_by(code="gaia")).scalar_one()
