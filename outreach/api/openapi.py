"""The OpenAPI document at /api/v1/openapi.json, assembled from each module's ``OPENAPI_PATHS``."""
from flask import jsonify

from ..access import public
from ..planexec import api as planexec_api
from ..sites import api as sites_api
from . import bp, lists_doc, read, write_doc

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "Jeton créé par `flask --app wsgi create-token "
                                              "EMAIL`"}}


def document():
    return {"openapi": "3.1.0",
            "info": {"title": "outreach API", "version": "1",
                     "description": "Lecture du plan et des indicateurs (secret statistique selon "
                                    "le rôle), saisie hors ligne (maraudes, contacts, étapes "
                                    "d'orientation), listes de son périmètre et revue par les "
                                    "superviseur·e·s. Les paramètres de période et de filtre sont "
                                    "ceux des pages et des exports ; un paramètre refusé répond "
                                    "400 en le nommant, en français ou selon Accept-Language."},
            "paths": _merged(read.OPENAPI_PATHS, write_doc.PATHS, lists_doc.PATHS,
                             sites_api.OPENAPI_PATHS, planexec_api.OPENAPI_PATHS),
            "components": {
                "schemas": {**read.OPENAPI_SCHEMAS, **write_doc.SCHEMAS, **lists_doc.SCHEMAS,
                            **sites_api.OPENAPI_SCHEMAS, **planexec_api.OPENAPI_SCHEMAS},
                "securitySchemes": SECURITY_SCHEMES}}


def _merged(*documents):
    """Paths of every module, the methods of one path (GET and POST /api/v1/encounters) side by
    side."""
    paths = {}
    for document in documents:
        for path, methods in document.items():
            paths.setdefault(path, {}).update(methods)
    return paths


@bp.route("/api/v1/openapi.json", methods=["GET"])
@public
def openapi_json():
    return jsonify(document())
