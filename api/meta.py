"""Open endpoints: health, the problem types, and the documentation page's own assets (so
``/docs`` works on a network without internet access)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import PersistenceError
from flask import abort, send_from_directory
from flask.views import MethodView
from swagger_ui_bundle import swagger_ui_path

from api import schemas
from api.auth import services
from api.errors import all_problems, problem_type
from api.extensions import Blueprint

blp = Blueprint("meta", __name__, description="Health and the meaning of each problem type.")

DOCS_ASSETS = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
)


@blp.route("/health")
class HealthView(MethodView):
    @blp.response(200, schemas.HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(security=[])
    def get(self) -> Any:
        """Whether the ledger's database answers, and its log's head position."""
        try:
            head = services().ledger.head_position()
        except PersistenceError:
            abort(503, description="the ledger's database does not answer")
        return {"status": "ok", "head": head}


@blp.route("/problems/<string:rule>")
class ProblemTypeView(MethodView):
    @blp.response(200, schemas.ProblemTypeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=[])
    def get(self, rule: str) -> Any:
        """What a problem type means: the target of every error's ``type``."""
        found = all_problems().get(rule)
        if found is None:
            abort(404, description=f"no problem type is named {rule}")
        return {
            "type": problem_type(rule),
            "rule": rule,
            "title": found.title,
            "status": found.status,
            "description": found.description,
        }


def docs_asset(filename: str) -> Any:
    if filename not in DOCS_ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
