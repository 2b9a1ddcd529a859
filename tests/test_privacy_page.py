"""The privacy page: public, French, generated from the configuration."""
import pytest


def test_public_and_reflects_defaults(client):
    response = client.get("/confidentialite")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="fr">' in page
    for text in ("supprimés après 24 mois", "« < 5 »", "inférieur à 5, zéro compris",
                 "décalé d'au plus 2", "Après 5 échecs de connexion",
                 "Ce qui est collecté", "Qui voit quoi", "jamais enregistrés"):
        assert text in page


@pytest.mark.parametrize(
    "app_config", [{"RETENTION_MONTHS": 12, "SUPPRESSION_THRESHOLD": 11, "DISCLOSURE_NOISE": 3}])
def test_follows_the_configuration(client):
    page = client.get("/confidentialite").get_data(as_text=True)
    assert ("supprimés après 12 mois" in page and "« < 11 »" in page
            and "inférieur à 11, zéro compris" in page)
    assert "décalé d'au plus 3" in page


def test_linked_from_the_login_page(client):
    assert 'href="/confidentialite"' in client.get("/connexion").get_data(as_text=True)
