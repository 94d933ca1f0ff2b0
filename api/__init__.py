"""The HTTP API: every command and query of the ledger over Flask, marshmallow and OpenAPI.

``create_app`` builds the application on the services of one database (``api.services``,
the composition root): the server (``budget-ledger serve``) gives it the database, the tests
may hand it the services they made with ``bootstrap`` instead.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from api import holders, logs, meta, movements, programs, reads
from api.auth import Forbidden, TooManyAttempts, Unauthenticated, authenticate
from api.extensions import LedgerApi, LedgerJSONProvider
from api.services import Services, bootstrap
from ledger.domain.errors import LedgerError
from ledger.storage.availability import DATABASE_ERRORS
from ledger.storage.config import default_database

TITLE = "Budget Ledger"
BLUEPRINTS = (movements.blp, holders.blp, programs.blp, reads.blp, meta.blp)


def create_app(database: str | None = None, *, services: Services | None = None) -> Flask:
    app = Flask("budget_ledger")
    app.config.update(
        API_TITLE=TITLE,
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        # No validator badge: it would call out to validator.swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {
                "description": "An event-sourced ledger for public investment and "
                "national-target-program funds. Amounts are JSON integers of đồng; dates "
                "ISO 8601. Errors are RFC 9457 problem details."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    app.json = LedgerJSONProvider(app)
    if services is None:
        # A server worker starts whether or not the database answers (the server checked,
        # once, that it holds a ledger): a worker restarted while the database is down
        # serves 503s until it is back, rather than stopping the server.
        services = bootstrap(database or default_database(), check=False)
    app.extensions["budget_ledger"] = services
    api = LedgerApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.add_url_rule("/docs/assets/<path:filename>", "docs_asset", meta.docs_asset)
    # A request takes one connection for the read models (if it needs one) and keeps it to
    # its end: taken and checked once, not for every statement.
    app.before_request(services.store.keep)
    app.teardown_request(lambda _: services.store.release())
    app.before_request(authenticate)
    # Imported here, in each server worker after the fork, never by the command that starts
    # gunicorn: prometheus_client chooses its multiprocess mode when first imported.
    from api.metrics import Metrics

    logs.install(app)
    Metrics(lambda: services.projections().state()).install(app)
    _register_error_handlers(app, api)
    return app


def _register_error_handlers(app: Flask, api: LedgerApi) -> None:
    app.register_error_handler(LedgerError, api.handle_refusal)
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, api.handle_database_error)
    app.register_error_handler(Unauthenticated, api.handle_unauthenticated)
    app.register_error_handler(Forbidden, api.handle_forbidden)
    app.register_error_handler(TooManyAttempts, api.handle_too_many_attempts)

    def unexpected(error: Exception) -> Any:
        return api.handle_unexpected(error)

    app.register_error_handler(Exception, unexpected)
