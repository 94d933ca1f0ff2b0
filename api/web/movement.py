"""The page of one movement: what was asked, the receipt, the postings on each line, the
reversals of it, and its proof (its place in the hash-chained log, the chain's digest there,
and the head digest to compare with one kept outside the system).

Its address is the API's, ``/movements/ID``: a browser asking for HTML gets the page, any
other client the JSON receipt (``asks_for_page``)."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from api.auth import in_scope, require_any_in_scope, services
from api.web.session import page_headers
from ledger.domain.errors import UnknownMovement
from ledger.domain.movements import Movement

MOVEMENT_ENDPOINT = "movements.MovementView"


def asks_for_page() -> bool:
    """A page of the web blueprint, or the movement's address asked for by a browser
    without a bearer token (the API's clients send one, and ask for JSON)."""
    if request.blueprint == "web":
        return True
    return (
        request.endpoint == MOVEMENT_ENDPOINT
        and request.method == "GET"
        and "Authorization" not in request.headers
        and request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    )


def movement_page() -> Response | None:
    """``before_request`` (after authentication): the movement's page for a browser."""
    if request.endpoint != MOVEMENT_ENDPOINT or not asks_for_page():
        return None
    movement_id = (request.view_args or {})["movement_id"]
    ledger = services().ledger
    try:
        found = ledger.get_movement(movement_id)
    except UnknownMovement:
        found = None
    if found is None:
        page = Response(
            render_template("error.html", message=f"no movement has id {movement_id}"), 404
        )
        return page_headers(page)  # type: ignore[return-value]
    holders = [entry["line"]["holder"] for entry in found.lines]
    require_any_in_scope(f"movement {movement_id}", holders)
    lines = []
    for entry, holder in zip(found.lines, holders, strict=True):
        shown = dict(entry)
        if not in_scope(holder):
            shown["available_vnd"] = None
        lines.append(shown)
    page = Response(
        render_template(
            "movement.html",
            movement=found,
            asked=_asked(found),
            lines=lines,
            reversals=_reversals(found),
            proof=_proof(found),
        )
    )
    return page_headers(page)  # type: ignore[return-value]


def _asked(found: Movement) -> list[tuple[str, Any]]:
    """The request's fields as recorded; a line written as its fields joined."""
    shown = []
    for name, value in found.request.items():
        if value in (None, ""):
            continue
        if isinstance(value, dict):
            value = " / ".join(str(part) for part in value.values() if part is not None)
        shown.append((name, value))
    return shown


def _reversals(found: Movement) -> list[dict[str, Any]]:
    """The reversals that took back part of this disbursement, from its own events."""
    events = services().ledger.events.get(found.id)
    return [
        {
            "reversal_id": event.reversal_id,
            "amount_vnd": event.amount_vnd,
            "recorded_at": event.timestamp,
        }  # fmt: skip
        for event in events
        if isinstance(event, Movement.Reversed)
    ]


def _proof(found: Movement) -> dict[str, Any]:
    log = services().log()
    positions = log.positions_of(found.id)
    position = positions[0][0] if positions else None
    digest = log.digest_at(position) if position is not None else None
    head_position, head = log.head()
    return {
        "position": position,
        "digest": digest.hex() if digest is not None else None,
        "head_position": head_position,
        "head": head.hex(),
        "later_positions": [at for at, _ in positions[1:]],
    }
