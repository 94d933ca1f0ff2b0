"""Open endpoints: health, the problem types, and the documentation page's own assets (so
``/docs`` works on a network without internet access)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import abort, send_from_directory
from flask.views import MethodView
from swagger_ui_bundle import swagger_ui_path

from api import schemas
from api.auth import services
from api.errors import all_problems, problem_type
from api.extensions import Blueprint, unavailable
from ledger.storage.availability import database_errors, is_unavailable, unavailable_reason

blp = Blueprint("meta", __name__, description="Health and the meaning of each problem type.")

log = logging.getLogger("budget_ledger.api")
# What /health/ready checks, by the name its answer gives each.
STORES = {"event_log": "the event log", "read_models": "the read models"}
DOCS_ASSETS = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
)


@blp.route("/health/live")
class LiveEndpoint(MethodView):
    @blp.response(200, schemas.LiveSchema)
    @blp.doc(security=[])
    def get(self) -> Any:
        """Liveness: the process answers (200, whatever the database does). Restart the
        process only when this fails: it reconnects to the database by itself."""
        return {"status": "ok"}


@blp.route("/health/ready")
class ReadyEndpoint(MethodView):
    @blp.response(200, schemas.HealthSchema)
    @blp.alt_response(
        503,
        response="SERVICE_UNAVAILABLE",
        description="A store does not answer; ``detail`` and ``stores`` name which.",
    )
    @blp.doc(security=[])
    def get(self) -> Any:
        """Readiness: every store answers (the event log, the read models), and the log's
        head position. Else 503 naming the stores that do not answer, with Retry-After."""
        return readiness()


@blp.route("/health")
class HealthEndpoint(MethodView):
    @blp.response(200, schemas.HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(security=[])
    def get(self) -> Any:
        """The same as /health/ready (kept for the monitors that call it)."""
        return readiness()


def ask_stores(probes: dict[str, Callable[[], int]]) -> tuple[int, list[str]]:
    """Each store's probe, all at once (each waits for a connection as long as its pool
    does; asked in turn while the database is down, the waits added up past a monitor's
    timeout): the first on the calling thread (a probe may use the thread's own connection:
    a SQLite read model's is, and one made on a passing thread stays open until the server
    stops), each other on a thread of its own. Returns the highest head they give, and the
    stores that do not answer; a fault (not the database being away) is raised."""

    def ask(name: str) -> int | None:
        try:
            return probes[name]()
        except database_errors() as error:
            if not is_unavailable(error):
                raise
            log.warning("%s does not answer: %s", STORES[name], unavailable_reason(error))
            return None

    first, *others = probes
    with ThreadPoolExecutor(max_workers=max(1, len(others)), thread_name_prefix="ready") as pool:
        asked = {name: pool.submit(ask, name) for name in others}
        heads = {first: ask(first)} | {name: future.result() for name, future in asked.items()}
    down = [name for name in probes if heads[name] is None]
    return max([head for head in heads.values() if head is not None], default=0), down


def readiness() -> Any:
    """Ask both stores at once (``ask_stores``)."""
    found = services()
    head, down = ask_stores(
        {
            "read_models": lambda: found.projections().state().head,
            "event_log": lambda: found.ledger.head_position(),
        }
    )
    stores = {name: "down" if name in down else "ok" for name in STORES}
    if not down:
        replicas = found.replicas
        more = {"replicas": replicas.status()} if replicas is not None else {}
        return {"status": "ok", "head": head, "stores": stores, **more}
    up = [label for name, label in STORES.items() if name not in down]
    detail = " and ".join(label for name, label in STORES.items() if name in down)
    detail += " do not answer" if len(down) > 1 else " does not answer"
    if up:
        detail += "; " + " and ".join(up) + (" answer" if len(up) > 1 else " answers")
    return unavailable(detail, stores=stores)


@blp.route("/problems/<string:rule>")
class ProblemTypeEndpoint(MethodView):
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
