"""Browser (phone viewport): an admin invites a user with a one-time link, the user chooses a
password and logs in, the admin changes their role and teams then disables them, and the audit
log shows each step by action."""
import pytest
from conftest import browser_login

pytestmark = pytest.mark.browser

EMAIL = "nouvelle.recrue@aurore.demo"
PASSWORD = "une phrase de passe assez longue"


def _logout(page):
    with page.expect_navigation():
        page.locator("#logout-form button").click()
    page.wait_for_url("**/connexion*")


def _submit(page, name):
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def _audit_rows(page, action):
    page.goto("/admin/journal")
    page.locator("#action").select_option(action)
    _submit(page, "Filtrer")
    assert f"action={action}" in page.url
    return page.locator("table tbody tr").all_inner_texts()


def test_admin_invites_changes_and_disables_a_user(page):
    browser_login(page, "admin@aurore.demo")
    page.goto("/admin/utilisateurs")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Intervenant·e").check()
    page.get_by_label("Maraude Nord (18e)", exact=True).check()
    page.get_by_label("Lien à usage unique (72 h)").check()
    _submit(page, "Créer le compte")
    link = page.locator("code.secret").inner_text().strip()
    assert "/invitation/" in link
    _logout(page)

    page.goto(link)
    page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    _submit(page, "Enregistrer")
    assert "Bienvenue" in page.content()
    assert EMAIL in page.locator("footer").inner_text()
    _logout(page)
    assert page.request.get(link).status == 404  # the link serves once
    browser_login(page, EMAIL, PASSWORD)
    assert EMAIL in page.locator("footer").inner_text()
    _logout(page)

    browser_login(page, "admin@aurore.demo")
    page.goto("/admin/utilisateurs")
    with page.expect_navigation():
        page.get_by_role("link", name=EMAIL).click()
    page.get_by_label("Coordinateur·rice").check()
    page.get_by_label("Maraude Nord (18e)").uncheck()
    page.get_by_label("Maraude Est (19e)").check()
    _submit(page, "Enregistrer")
    assert "Compte mis à jour." in page.content()
    _submit(page, "Désactiver")
    assert page.get_by_role("button", name="Réactiver").is_visible()

    invited = _audit_rows(page, "user_invited")
    assert (len(invited) == 1 and "admin@aurore.demo" in invited[0]
            and "→ Intervenant·e" in invited[0])
    role = _audit_rows(page, "role_changed")
    assert (len(role) == 1 and "Intervenant·e → Coordinateur·rice" in role[0]
            and "admin@aurore.demo" in role[0])
    teams = _audit_rows(page, "teams_changed")
    assert len(teams) == 1 and "Maraude Nord (18e) → Maraude Est (19e)" in teams[0]
    disabled = _audit_rows(page, "user_disabled")
    assert len(disabled) == 1 and "admin@aurore.demo" in disabled[0]
    accepted = _audit_rows(page, "invitation_accepted")
    assert len(accepted) == 1 and EMAIL in accepted[0]
    assert not any("Rôle changé" in row for row in disabled)  # the filter keeps only its action
    _logout(page)

    browser_login(page, EMAIL, PASSWORD)
    assert "/connexion" in page.url and "incorrect" in page.content()


def test_the_invitation_link_wraps_on_a_phone_and_copies_with_one_tap(page, context):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    browser_login(page, "admin@aurore.demo")
    page.goto("/admin/utilisateurs")
    page.get_by_label("Adresse e-mail").fill(
        "une.adresse.vraiment.tres.longue.pour.un.telephone@aurore.demo")
    page.get_by_label("Intervenant·e").check()
    page.get_by_label("Maraude Est (19e)", exact=True).check()
    _submit(page, "Créer le compte")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    link = page.locator("#invitation-link")
    # wrapped over several lines rather than cut or scrolled
    assert link.bounding_box()["height"] > 30
    page.get_by_role("button", name="Copier le lien").click()
    page.get_by_text("Lien copié.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link.inner_text().strip()
