"""Manifest and service worker are served from the root scope, uncached, versioned by content."""
import json

from outreach.offline import services


def test_manifest_is_public_and_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert manifest["icons"] and manifest["lang"] == "fr"


def test_service_worker_has_root_scope_and_is_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert "/static/js/queue.js" in script and "/hors-ligne" in script


def test_any_static_change_bumps_the_worker_version(app, tmp_path, monkeypatch):
    with app.test_request_context():
        before = services.static_version()
        assert services.static_version() == before  # content, not time
        (tmp_path / "extra.css").write_text("a{}")
        monkeypatch.setattr(app, "static_folder", str(tmp_path))
        assert services.static_version() != before


def test_base_page_loads_the_queue_and_links_the_manifest(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert "/static/js/queue.js" in page


def test_offline_page_is_public_and_queue_page_needs_login(client, login):
    assert client.get("/hors-ligne").status_code == 200
    assert client.get("/file-attente").status_code == 302
    login("worker@aurore.demo")
    page = client.get("/file-attente").get_data(as_text=True)
    assert 'id="queue-list"' in page
    token = client.get("/file-attente/jeton").get_json()
    assert token["csrf_token"]
