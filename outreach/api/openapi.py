"""The OpenAPI document at /api/v1/openapi.json, assembled from each module's ``OPENAPI_PATHS``."""
from flask import jsonify

from ..access import public
from ..planexec import api as planexec_api
from ..sites import api as sites_api
from . import bp, read, write_doc

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "Jeton créé par `flask --app wsgi create-token EMAIL`"}}


def document():
    return {"openapi": "3.1.0",
            "info": {"title": "outreach API", "version": "1",
                     "description": "Lecture du plan et des indicateurs (secret statistique selon le rôle)."},
            "paths": {**read.OPENAPI_PATHS, **write_doc.PATHS, **sites_api.OPENAPI_PATHS,
                      **planexec_api.OPENAPI_PATHS},
            "components": {"schemas": {**read.OPENAPI_SCHEMAS, **write_doc.SCHEMAS, **sites_api.OPENAPI_SCHEMAS,
                                       **planexec_api.OPENAPI_SCHEMAS},
                           "securitySchemes": SECURITY_SCHEMES}}


@bp.route("/api/v1/openapi.json", methods=["GET"])
@public
def openapi_json():
    return jsonify(document())
