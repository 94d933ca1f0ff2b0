"""The seven movements as ``POST``s, and ``GET /movements/<id>`` for a recorded one.

Every write is idempotent by its movement id (the body's ``movement_id`` or the
``Idempotency-Key`` header): the ledger's store refuses a second movement under one id, so a
retried request gets the first answer back (same status, same body, and the header
``Idempotent-Replayed: true``) and a different request under a used id gets 409. A refusal
records nothing, not even the refusal: sent again, a request is checked again.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

from flask import abort, request
from flask.views import MethodView

from api import schemas
from api.auth import (
    caller,
    in_scope,
    require_any_in_scope,
    require_scope,
    require_write,
    services,
)
from api.extensions import Blueprint
from ledger.errors import InvalidInput, MovementIdConflict, UnknownMovement
from ledger.movements import MovementRequest
from ledger.values import LineKey

blp = Blueprint("movements", __name__, description="Record movements of money.")

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 64},
    "description": "The movement id, if the body does not carry it.",
}
REFUSALS = {
    409: "The books refuse it as they stand (the rule is named).",
    422: "The request is malformed, or names an unknown holder or movement.",
    503: "Busy (nothing was recorded) or the database unavailable (the write may or may not "
    "have been recorded): after Retry-After seconds send it again with the same movement id.",
}


def movement_id(body: dict[str, Any]) -> str:
    header = request.headers.get("Idempotency-Key")
    given = body.get("movement_id")
    if header is not None and given is not None and header.strip() != given.strip():
        raise InvalidInput(
            f"the body says {given!r} but the Idempotency-Key header says {header!r}; send one id",
            field="movement_id",
        )
    chosen = given if given is not None else header
    if chosen is None:
        raise InvalidInput(
            "is required (or send it in the Idempotency-Key header): it makes a retry safe",
            field="movement_id",
        )
    return chosen


def common(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "movement_id": movement_id(body),
        "effective_date": body["effective_date"],
        "note": body.get("note"),
    }


def adjustment(body: dict[str, Any]) -> MovementRequest:
    return MovementRequest(
        action="adjust",
        line=LineKey.of(body, body["holder"]),
        amount_vnd=body["amount_vnd"],
        decision=body["decision"],
        **common(body),
    )


def two_sided(action: str) -> Callable[[dict[str, Any]], MovementRequest]:
    def build(body: dict[str, Any]) -> MovementRequest:
        return MovementRequest(
            action=action,
            line=LineKey.of(body, body["from_holder"]),
            counterpart=body["to_holder"],
            amount_vnd=body["amount_vnd"],
            decision=body["decision"],
            **common(body),
        )

    return build


def disbursement(body: dict[str, Any]) -> MovementRequest:
    return MovementRequest(
        action="disburse",
        line=LineKey.of(body, body["holder"]),
        amount_vnd=body["amount_vnd"],
        voucher=body["voucher"],
        **common(body),
    )


def reversal(body: dict[str, Any]) -> MovementRequest:
    return MovementRequest(
        action="reverse",
        reverses=body["reverses"],
        amount_vnd=body.get("amount_vnd"),
        reason=body["reason"],
        **common(body),
    )


def extension(body: dict[str, Any]) -> MovementRequest:
    return MovementRequest(
        action="extend",
        line=LineKey.of(body, body["holder"]),
        until=body["until"],
        amount_vnd=body.get("amount_vnd"),
        basis=body["basis"],
        **common(body),
    )


def lapse(body: dict[str, Any]) -> MovementRequest:
    return MovementRequest(action="lapse", line=LineKey.of(body, body["holder"]), **common(body))


def holders_of(movement: MovementRequest) -> list[str]:
    """The holders whose money the movement touches: all must be in the token's scope."""
    if movement.line is None:
        # A reversal touches the reversed payment's line.
        assert movement.reverses is not None
        return [services().ledger.get_movement(movement.reverses).line_key.holder]
    return [movement.line.holder] + ([movement.counterpart] if movement.counterpart else [])


def record(action: str, build: Callable[[dict[str, Any]], MovementRequest], body: Any) -> Any:
    require_write(action, body.get("source"))
    movement = build(body)
    require_scope(*holders_of(movement))
    try:
        receipt, replayed = services().ledger.record(movement, actor=caller().name)
    except MovementIdConflict:
        if caller().scope is not None and not _readable(movement.movement_id):
            # The refusal names who recorded the first movement, when, and what differs:
            # not for a token that may not read that movement (it could probe it field by
            # field), which hears only that the id is taken.
            raise MovementIdConflict(
                f"movement id {movement.movement_id} is already used; choose a new id",
                field="movement_id",
            ) from None
        raise
    headers = {"Location": f"/movements/{receipt['movement_id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return receipt, 201, headers


ENDPOINTS: list[tuple[str, str, type[schemas.Schema], Callable[..., MovementRequest], str]] = [
    (
        "/adjustments",
        "adjust",
        schemas.AdjustmentSchema,
        adjustment,
        "Raise (+) or lower (−) a line by an external decision: money enters or leaves here.",
    ),
    (
        "/allocations",
        "allocate",
        schemas.TwoSidedSchema,
        two_sided("allocate"),
        "Assign part of a parent's line to a direct child's line.",
    ),
    (
        "/reallocations",
        "reallocate",
        schemas.TwoSidedSchema,
        two_sided("reallocate"),
        "Move money between two holders' lines; both change together or neither does.",
    ),
    (
        "/disbursements",
        "disburse",
        schemas.DisbursementSchema,
        disbursement,
        "Record a treasury-confirmed payment out of a line.",
    ),
    (
        "/reversals",
        "reverse",
        schemas.ReversalSchema,
        reversal,
        "Take back all or part of an earlier disbursement.",
    ),
    (
        "/extensions",
        "extend",
        schemas.ExtensionSchema,
        extension,
        "Let the undisbursed part of a line (or a stated amount) be paid until a later deadline.",
    ),
    (
        "/lapses",
        "lapse",
        schemas.LapseSchema,
        lapse,
        "Return what a line past its deadline has not paid and was not extended.",
    ),
]


def register(
    path: str, action: str, schema: type[schemas.Schema], build: Any, summary: str
) -> None:
    def post(self: MethodView, body: dict[str, Any]) -> Any:
        return record(action, build, body)

    post.__doc__ = summary
    # An instance, made once: given the class, webargs builds a new schema (deep-copying
    # every field) for each request.
    post = blp.arguments(schema())(post)
    post = blp.response(201, schemas.ReceiptSchema, description="Recorded (or replayed).")(post)
    for status, description in REFUSALS.items():
        post = blp.alt_response(status, response=_component(status), description=description)(post)
    post = blp.doc(parameters=[IDEMPOTENCY_HEADER])(post)
    view = type(f"{action.title()}View", (MethodView,), {"post": post})
    blp.route(path)(view)


def _component(status: int) -> str:
    return http.HTTPStatus(status).name


for endpoint in ENDPOINTS:
    register(*endpoint)


def _readable(movement_id: str) -> bool:
    """Whether the caller may read the recorded movement (it touches a line in scope)."""
    found = services().ledger.get_movement(movement_id)
    return any(in_scope(LineKey(**entry["line"]).holder) for entry in found.lines)


@blp.route("/movements/<string:movement_id>")
class MovementView(MethodView):
    @blp.response(200, schemas.ReceiptSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No movement has this id.")
    def get(self, movement_id: str) -> Any:
        """A recorded movement's receipt, if it touches a line in the token's scope (either
        side of an allocation or reallocation). The figures of a line outside the scope
        (``available_vnd`` of the other side) are ``null``: the movement is the scope's
        business, the other holder's books are not."""
        try:
            found = services().ledger.get_movement(movement_id)
        except UnknownMovement:
            abort(404, description=f"no movement has id {movement_id}")
        holders = [LineKey(**entry["line"]).holder for entry in found.lines]
        require_any_in_scope(f"movement {movement_id}", holders)
        receipt = found.receipt()
        for entry, holder in zip(receipt["lines"], holders, strict=True):
            if not in_scope(holder):
                entry["available_vnd"] = None
        return receipt
