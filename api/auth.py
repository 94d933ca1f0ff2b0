"""Who is asking, and may they: bearer tokens checked on every request but the open ones,
then the token's role and its scope (a holder's subtree) checked by each view. An address
whose tokens keep failing is made to wait (429), counted in the database across processes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from flask import current_app, g, request

from api import routing
from api.services import Services
from api.tokens import FAILURE_WINDOW_S, FAILURES_MAX, Token
from projections.runner import Projections, ReadModelState

# Paths anyone may read: health checks, the API's own description, the problem types and
# the server's metrics (docs/api.md, "Metrics and logs").
OPEN_PREFIXES = ("/health", "/openapi.json", "/docs", "/problems/", "/metrics")


# The pages anyone may open: the sign-in page and the pages' own files.
OPEN_PAGES = ("web.login_form", "web.login", "web.static")


class SignInNeeded(Exception):
    """A page asked for without a live session: the browser goes to the sign-in page."""


class Unauthenticated(Exception):
    """No token, a malformed one, or one that is unknown, revoked or expired: 401."""


class TooManyAttempts(Exception):
    """The address failed to authenticate too often lately: 429 with Retry-After."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(Exception):
    """The token's role or scope does not allow this: 403. Nothing is recorded."""


def services() -> Services:
    """The services answering this request: a replica's for a read routed to one, else the
    primary's (api/routing.py)."""
    return routing.side()


def authenticate() -> None:
    """``before_request``: put the caller's token in ``g.token`` or refuse with 401."""
    if request.path.startswith(OPEN_PREFIXES) or request.method == "OPTIONS":
        return
    if request.endpoint in OPEN_PAGES:
        return
    if "Authorization" not in request.headers:
        # A person signed in to the pages: the same views, the same checks.
        from api.web.errors import wants_page
        from api.web.session import person_from_cookie

        # Sessions are the primary's: using one writes (it stays alive), signing out too.
        if person_from_cookie(routing.primary()):
            return
        if wants_page():
            raise SignInNeeded()
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>'; an admin creates tokens with "
            "'budget-ledger tokens create'"
        )
    # The peer's address. Behind a reverse proxy it is the proxy's (docs/api.md).
    address = request.remote_addr or ""
    found, state = routing.authenticate_on_side(secret.strip(), address)
    now = time.time()
    failures_max: int = current_app.config.get("AUTH_FAILURES_MAX", FAILURES_MAX)
    window_s: float = current_app.config.get("AUTH_FAILURE_WINDOW_S", FAILURE_WINDOW_S)
    wait = found.retry_after(now, failures_max, window_s)
    if wait is not None:
        raise TooManyAttempts(
            f"{found.failures} failed authentications from {address} within "
            f"{window_s:g} seconds; no token from it is looked at for {wait} more seconds",
            wait,
        )
    token = found.token
    refusal = None
    if token is None:
        refusal = "the token is unknown or was revoked; ask an admin for a new one"
    elif token.expired(datetime.fromtimestamp(now, UTC)):
        refusal = (
            f"token {token.name!r} expired at the end of {token.last_day()} (Vietnam time); "
            "ask an admin for a new one"
        )
    if refusal is not None:
        # Counted on the primary, whichever database looked the token up.
        routing.primary().tokens().record_failure(address, now, window_s)
        raise Unauthenticated(refusal)
    g.token = token
    g.read_model = state


def read_model() -> ReadModelState | None:
    """Where the read models stood when this request arrived (read with its token)."""
    state: ReadModelState | None = g.get("read_model")
    return state


def read_models() -> Projections:
    """The read models that answer this request, current as of its arrival (on the primary)
    or at their replica's position; the position goes in the answer's Ledger-Position."""
    return routing.read_models(read_model())


def caller() -> Token:
    token: Token = g.token
    return token


def require_write(action: str, source: str | None = None) -> Token:
    """The token's role allows ``action``, on a line of ``source`` if given (the rules are
    ``Token.refusal``'s)."""
    token = caller()
    refusal = token.refusal(action, source)
    if refusal is not None:
        raise Forbidden(refusal)
    return token


def require_scope(*holders: str, on: date | None = None) -> None:
    """Every holder named must lie in the token's scope (the scope holder or below it). With
    ``on`` (a write effective that day) in the tree as it stood that day: a token scoped to a
    holder that has ended writes nothing below it from its end, and one scoped to a commune's
    old district nothing on the commune once it moved away. Without it (a read), anything ever
    below the scope or passed to it (``in_scope``)."""
    for holder in holders:
        allowed = in_scope(holder) if on is None else written_in_scope(holder, on)
        if not allowed:
            token = caller()
            when = f" on {on.isoformat()}" if on is not None else ""
            raise Forbidden(
                f"holder {holder} is outside the scope of token {token.name!r} "
                f"(holder {token.scope} and below{when})"
            )


def require_any_in_scope(what: str, holders: list[str]) -> None:
    """At least one of ``holders`` lies in the token's scope: a movement that touches a line
    in scope (either side of it) is the scope's business, whole."""
    if not any(in_scope(holder) for holder in holders):
        token = caller()
        raise Forbidden(
            f"{what} touches no line in the scope of token {token.name!r} (holder "
            f"{token.scope} and below): it moves money of {', '.join(holders)}"
        )


def require_unscoped(what: str) -> None:
    token = caller()
    if token.scope is not None:
        raise Forbidden(f"{what} covers the whole ledger; it needs a token without a scope")


def written_in_scope(holder: str, day: date) -> bool:
    """Whether the caller's scope covers ``holder`` in the tree of ``day`` (for writes)."""
    scope = caller().scope
    ledger = services().ledger
    code = ledger.get_holder(holder).code
    return scope is None or ledger.within_on(code, scope, day)


def in_scope(holder: str) -> bool:
    """Whether the caller's scope covers ``holder`` (below it now or ever, or passed to it by
    succession: ``BudgetLedger.within``); raises UnknownHolder (422) for an unknown code."""
    scope = caller().scope
    ledger = services().ledger
    code = ledger.get_holder(holder).code
    return scope is None or ledger.within(code, scope)
