"""The service worker's version: a hash of every static file and of the worker template.

Any change to a cached file gives a new version, hence new cache names; queued
records live in IndexedDB, never in these caches, so an update cannot lose them.
"""
import hashlib
import os

from flask import current_app, url_for

SW_TEMPLATE = "offline/sw.js"
SHELL_ENDPOINTS = ("shifts.current", "contacts.new", "contacts.tally_page")


def _files(folder):
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(root, name)


def static_version():
    """Short hex hash over the static files and the worker template (content, not mtime)."""
    digest = hashlib.sha256()
    template = os.path.join(current_app.template_folder, SW_TEMPLATE)
    for path in [template, *_files(current_app.static_folder)]:
        digest.update(os.path.relpath(path, current_app.root_path).encode())
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()[:16]


def static_urls():
    """URLs of the app shell that the worker caches at install time."""
    folder = current_app.static_folder
    files = [os.path.relpath(p, folder).replace(os.sep, "/") for p in _files(folder)]
    return [url_for("static", filename=f) for f in files if not f.startswith(("vendor/src", "."))]


def shell_urls():
    """Pages worth having offline; failures (e.g. not logged in yet) are skipped by the worker."""
    urls = [url_for("offline.page"), url_for("offline.queue")]
    for endpoint in SHELL_ENDPOINTS:
        known = endpoint in current_app.view_functions
        rules = list(current_app.url_map.iter_rules(endpoint)) if known else []
        if rules and not rules[0].arguments:
            urls.append(url_for(endpoint))
    return urls


def manifest():
    return {
        "name": "outreach · maraudes",
        "short_name": "Maraudes",
        "lang": "fr",
        "start_url": url_for("auth.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d3557",
        "icons": [{"src": url_for("static", filename="img/icon.svg"), "sizes": "any",
                   "type": "image/svg+xml", "purpose": "any"}],
    }
