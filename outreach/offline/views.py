"""Manifest, service worker and the device queue page (records themselves live in the browser)."""
import json

from flask import Response, current_app, jsonify, render_template
from flask_wtf.csrf import generate_csrf

from ..access import public
from . import bp, services


@bp.route("/manifest.webmanifest")
@public
def manifest():
    body = json.dumps(services.manifest(), ensure_ascii=False)
    return Response(body, mimetype="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@bp.route("/sw.js")
@public
def service_worker():
    script = render_template(services.SW_TEMPLATE, version=services.static_version(),
                             static_urls=services.static_urls(), shell_urls=services.shell_urls(),
                             debug=current_app.debug)
    headers = {"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"}
    return Response(script, mimetype="text/javascript", headers=headers)


@bp.route("/hors-ligne")
@public
def page():
    return render_template("offline/page.html")


@bp.route("/file-attente")
def queue():
    return render_template("offline/queue.html")


@bp.route("/file-attente/jeton")
def token():
    """A fresh CSRF token for the sync engine (cached pages may hold an expired one)."""
    return jsonify(csrf_token=generate_csrf())
