"""Every kind of movement (ledger/domain/movements.py KINDS) as a ``POST``, and
``GET /movements/<id>`` for a recorded one.

Every write is idempotent by its movement id (the body's ``movement_id`` or the
``Idempotency-Key`` header): the ledger's store refuses a second movement under one id, so a
retried request gets the first answer back (same status, same body, and the header
``Idempotent-Replayed: true``) and a different request under a used id gets 409. A refusal
records nothing, not even the refusal: sent again, a request is checked again.
"""

from __future__ import annotations

import http
from typing import Any

from flask import abort, g
from flask.views import MethodView

from api import schemas
from api.auth import caller, in_scope, require_any_in_scope, require_scope, services
from api.dry_run import DRY_RUN_DESCRIPTION, DRY_RUN_QUERY, dry_answer, dry_run_requested
from api.extensions import Blueprint
from ledger.domain.errors import MovementIdConflict, UnknownMovement
from ledger.domain.movements import KINDS, Movement, MovementRequest, Reverse

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


def holders_of(movement: MovementRequest) -> list[str]:
    """The holders whose money the movement touches: all must be in the token's scope."""
    named = [key.holder for key in movement.named_lines()]
    if named:
        return named
    # A reversal names no line: it touches the reversed payment's.
    assert isinstance(movement, Reverse)
    return [services().ledger.get_movement(movement.reverses).line_key.holder]


def record(movement: MovementRequest) -> Any:
    # The role was checked as the body was loaded (schemas.MovementSchema.command).
    require_scope(*holders_of(movement), on=movement.effective_date)
    return save(movement)


def save(movement: MovementRequest) -> Any:
    """Record a movement whose role and scope were checked: 201 with its receipt, or the
    first answer again (with Idempotent-Replayed) when it was recorded before. A dry run
    (api/dry_run.py) records nothing and answers 200 with the receipt and the preview."""
    dry_run = dry_run_requested()
    ledger = services().ledger
    try:
        receipt, replayed = ledger.record(movement, actor=caller().name, dry_run=dry_run)
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
    if dry_run:
        # A replay would change nothing: no line to preview.
        preview = [] if replayed else ledger.preview(movement, actor=caller().name)
        body = schemas.DryRunReceiptSchema().dump({**receipt, "dry_run": True, "preview": preview})
        return dry_answer(body, **({"Idempotent-Replayed": "true"} if replayed else {}))
    headers = {"Location": f"/movements/{receipt['movement_id']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        # Nothing written now: the answer's position is the log's head, which holds the
        # first recording (a read asking for it finds the movement).
        g.position = ledger.head_position()
    return receipt, 201, headers


def register(kind: type[MovementRequest]) -> None:
    """``POST kind.endpoint``: its body is loaded as the kind's command (schemas.py)."""

    def post(self: MethodView, movement: MovementRequest) -> Any:
        return record(movement)

    post.__doc__ = kind.summary
    # An instance, made once: given the class, webargs builds a new schema (deep-copying
    # every field) for each request.
    post = blp.arguments(schemas.movement_schema(kind)())(post)
    post = blp.response(201, schemas.ReceiptSchema, description="Recorded (or replayed).")(post)
    for status, description in REFUSALS.items():
        post = blp.alt_response(status, response=_component(status), description=description)(post)
    post = blp.alt_response(
        200, schema=schemas.DryRunReceiptSchema, description=DRY_RUN_DESCRIPTION
    )(post)
    post = blp.doc(parameters=[IDEMPOTENCY_HEADER, DRY_RUN_QUERY])(post)
    view = type(f"{kind.action.title()}View", (MethodView,), {"post": post})
    blp.route(kind.endpoint)(view)


def _component(status: int) -> str:
    return http.HTTPStatus(status).name


for movement_kind in KINDS.values():
    register(movement_kind)


def _holders(found: Movement) -> list[str]:
    """The holder of each line a recorded movement touched, in its receipt's order."""
    return [entry["line"]["holder"] for entry in found.lines]


def _readable(movement_id: str) -> bool:
    """Whether the caller may read the recorded movement (it touches a line in scope)."""
    return any(in_scope(holder) for holder in _holders(services().ledger.get_movement(movement_id)))


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
        holders = _holders(found)
        require_any_in_scope(f"movement {movement_id}", holders)
        receipt = found.receipt()
        for entry, holder in zip(receipt["lines"], holders, strict=True):
            if not in_scope(holder):
                entry["available_vnd"] = None
        return receipt
