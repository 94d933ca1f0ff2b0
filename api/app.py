"""The Flask application of the API (see the package's docstring, api/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from api import holders, logs, meta, movements, programs, reads, routing, web
from api.auth import Forbidden, SignInNeeded, TooManyAttempts, Unauthenticated, authenticate
from api.extensions import LedgerApi, LedgerJSONProvider
from api.people import IDLE_TIMEOUT_S, unknown_hash
from api.services import Services, bootstrap
from ledger.domain.errors import LedgerError
from ledger.storage.availability import database_errors
from ledger.storage.config import default_database
from ledger.storage.settings import MAX_LAG_S

TITLE = "Budget Ledger"
BLUEPRINTS = (movements.blp, holders.blp, programs.blp, reads.blp, meta.blp)


def create_app(
    database: str | None = None,
    *,
    services: Services | None = None,
    proxy_hops: int = 0,
    secure_cookies: bool = False,
    read_databases: Sequence[str] = (),
    max_lag_s: float = MAX_LAG_S,
) -> Flask:
    """The application. ``proxy_hops``: how many reverse proxies in front of the server to
    believe about the client's address and scheme (their X-Forwarded-For and
    X-Forwarded-Proto; 0 believes none, as a client can send any header).
    ``secure_cookies``: send the pages' cookies with Secure whatever the scheme (TLS ends
    at a proxy that does not say so). ``read_databases``: streaming replicas that serve
    reads while behind by ``max_lag_s`` at most (api/routing.py)."""
    app = Flask("budget_ledger")
    if proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=proxy_hops)  # type: ignore[method-assign]
    app.config.update(
        API_TITLE=TITLE,
        API_VERSION="1",
        # 3.0.3, not 3.1: the Swagger UI served at /docs (swagger-ui-bundle 1.1.0, the newest
        # on PyPI, ships Swagger UI 4) renders no 3.1 document. apispec writes a field that
        # may be null as ``nullable: true`` in 3.0.
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        # No validator badge: it would call out to validator.swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        # A signed-in page unused this long needs signing in again (api/people.py).
        WEB_IDLE_TIMEOUT_S=IDLE_TIMEOUT_S,
        WEB_SECURE_COOKIES=secure_cookies,
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
        services = bootstrap(
            database or default_database(),
            check=False,
            read_databases=read_databases,
            max_lag_s=max_lag_s,
        )
    app.extensions["budget_ledger"] = services
    if services.has_replicas:
        # Nothing else brings the primary's read models to this server's writes: one of
        # its processes follows the log (Services.keep_following; each worker, after the fork).
        # Each checks its replicas' lag on a thread of its own, not in the reads.
        services.keep_following()
        services.keep_checking_replicas()
    api = LedgerApi(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.document_positions()
    app.add_url_rule("/docs/assets/<path:filename>", "docs_asset", meta.docs_asset)
    # The pages: a plain Flask blueprint, not part of the API's OpenAPI document.
    app.register_blueprint(web.blp)
    # A request goes to the primary or, a read, to a replica (api/routing.py), and takes one
    # connection there for the read models (if it needs one), kept to its end: taken and
    # checked once, not for every statement.
    app.before_request(routing.route)
    app.teardown_request(routing.release)
    app.after_request(routing.state_position)
    app.before_request(authenticate)
    # A browser asking for a movement's address gets its page (api/web/movement.py).
    app.before_request(web.movement.movement_page)
    app.before_request(api.refuse_unknown_query)
    # Imported here, in each server worker after the fork, never by the command that starts
    # gunicorn: prometheus_client chooses its multiprocess mode when first imported.
    from api.metrics import Metrics

    logs.install(app)
    Metrics(lambda: services.projections().state()).install(app)
    _register_error_handlers(app, api)
    # Hashed now, not at the first sign-in under an unknown name, which would then take
    # longer than one under a known name.
    unknown_hash()
    return app


def _register_error_handlers(app: Flask, api: LedgerApi) -> None:
    handlers: list[tuple[Any, Callable[[Any], Response]]] = [
        (LedgerError, api.handle_refusal),
        # The services exist by now: a PostgreSQL store has loaded psycopg, whose errors are
        # then among these.
        *((error, api.handle_database_error) for error in database_errors()),
        (Unauthenticated, api.handle_unauthenticated),
        (Forbidden, api.handle_forbidden),
        (TooManyAttempts, api.handle_too_many_attempts),
        (Exception, api.handle_unexpected),
    ]
    for error, handler in handlers:
        app.register_error_handler(error, _pages_too(handler))
    app.register_error_handler(SignInNeeded, lambda _: web.errors.to_sign_in())


def _pages_too(handler: Callable[[Any], Response]) -> Callable[[Any], Response]:
    """The API's answer to a refusal; on a page, the same status and message as a page."""

    def handle(error: Any) -> Response:
        answer = handler(error)
        return web.errors.error_page(answer) if web.errors.wants_page() else answer

    return handle
