"""An imported row and the live contact form give the same person code for the same inputs, with one
key and after a key rotation (a chain "K0,K1"), so imported history and street contacts count as one
person."""
import io

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.maintenance.keys import pseudonym_code
from outreach.models import Contact, Person
from outreach.pseudonyms.services import digest_from_inputs

INPUTS = ("é", "Zorglubix-Dupont", "1977", "m")
HEADER = "date;time;team;sector;kind;people_count;sex;age_band;living_situation;products;needs;" \
         "materials;orientation;accompanied;programme;digest"
ROTATED = "test-pseudonym-key,a-second-layer-key-of-at-least-32-chars"


@pytest.fixture(params=["one key", "rotated chain"])
def app_config(request):
    return {} if request.param == "one key" else {"PSEUDONYM_KEY": ROTATED}


def test_imported_code_equals_the_live_form_code(app, client, login):
    login("worker@aurore.demo")
    assert client.post("/maraude",
                       data={"team": "aurore_nord", "staff_count": "2"}).status_code == 302
    assert client.post("/maraude/contacts", data={
        "kind": "known", "pseudo_initial": INPUTS[0], "pseudo_name": INPUTS[1],
        "pseudo_birth": INPUTS[2], "sex": INPUTS[3]}).status_code == 302
    with app.app_context():
        live = db.session.execute(select(Person.code)).scalar_one()
        digest, _weak = digest_from_inputs(*INPUTS)
        assert live == pseudonym_code(digest, app.config["PSEUDONYM_KEY"])
    client.post("/deconnexion")
    login("supervisor@aurore.demo")
    row = f"2025-03-14;21:40;aurore_est;;known;1;m;;;;;;;;;{digest}"
    data = ("\ufeff" + HEADER + "\r\n" + row + "\r\n").encode()
    response = client.post("/import", data={"file": (io.BytesIO(data), "contacts.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        # one person, not two
        assert db.session.execute(select(Person.code)).scalars().all() == [live]
        person_ids = set(db.session.execute(select(Contact.person_id)).scalars())
        assert (len(person_ids) == 1
                and len(db.session.execute(select(Contact.id)).scalars().all()) == 2)
