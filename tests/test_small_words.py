"""Words and markup: the contact form uses the app's terms for orientations, the drill-down
table heads its rows, and audit rows written before site types and partners became reference
lists are shown in words."""
import html
import re

from conftest import do_login

from outreach.extensions import db
from outreach.models import AuditEvent
from outreach.site_models import Partner, SiteType


def _text(response):
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def test_the_contact_form_says_care_orientations_and_shelter_referral(app):
    client = app.test_client()
    do_login(client, "worker@aurore.demo")
    started = client.post("/maraude", data={"team": "aurore_nord", "staff_count": "1"})
    assert started.status_code == 302
    page = _text(client.get("/maraude"))
    assert "Orientations vers le soin" in page and "Orientation hébergement" in page
    assert "mises à l'abri" not in page


def test_the_drill_down_table_heads_each_row(app):
    client = app.test_client()
    do_login(client, "manager@plan.demo")
    page = client.get("/indicateurs/contacts").get_data(as_text=True)
    table = page[page.index('id="breakdown"'):page.index("</table>", page.index('id="breakdown"'))]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    assert rows and all(row.lstrip().startswith('<th scope="row">') for row in rows)
    assert '<th scope="row">' in table[table.index("<tfoot>"):]


def test_old_site_type_and_partner_audit_rows_are_shown_in_words(app):
    with app.app_context():
        site_type = db.session.execute(db.select(SiteType)).scalars().first()
        partner = db.session.execute(db.select(Partner)).scalars().first()
        db.session.add_all([
            AuditEvent(action="site_type_added", target_type="site_types",
                       target_id=str(site_type.id), after=site_type.code),
            AuditEvent(action="partner_added", target_type="partners", target_id=str(partner.id),
                       after=partner.code)])
        db.session.commit()
        names = site_type.display_label, partner.display_label
    client = app.test_client()
    do_login(client, "admin@aurore.demo")
    page = _text(client.get("/admin/journal"))
    rows = page[page.index("Avant → après"):]
    assert "Type de site ajouté" in rows and "Partenaire ajouté" in rows
    assert "site_type_added" not in rows and "partner_added" not in rows
    assert f"Type de site {names[0]}" in rows and f"Partenaire {names[1]}" in rows
