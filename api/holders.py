"""Holders (đơn vị): register one, list the tree as it stood on a day, look one up with its
life, move and rename one from a dated decision; and successions (``POST /successions``),
which end holders and pass their lines on. Within the token's scope (``in_scope``: below the
scope holder at any time, or passed to it by succession)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView

from api import paging, schemas
from api.auth import (
    caller,
    read_models,
    require_scope,
    require_unscoped,
    require_write,
    services,
)
from api.dry_run import DRY_RUN_DESCRIPTION, DRY_RUN_QUERY, dry_answer, dry_run_requested
from api.extensions import Blueprint
from api.movements import IDEMPOTENCY_HEADER, REFUSALS, save
from api.reads import scope_holders
from ledger.domain.errors import UnknownHolder
from ledger.domain.holders import Holder
from ledger.domain.movements import Succeed
from ledger.domain.values import check_code, today_in_vietnam
from projections.queries import holders_on

blp = Blueprint("holders", __name__, description="The tree of holders and its life.")
# GET /holders, by code.
BY_CODE = paging.Ordering(lambda row: (row["code"],), (str,))


def as_dict(holder: Any) -> dict[str, Any]:
    return {
        "code": holder.code,
        "name": holder.name,
        "level": holder.level,
        "parent": holder.parent,
        "actor": holder.actor,
        "registered_at": getattr(holder, "registered_at", None) or holder.created_on,
        "since": holder.since,
        "ended_on": holder.ended_on,
        "successor": holder.successor,
    }


def life(code: str, *, planned: Holder | None = None) -> dict[str, Any]:
    """``code`` with its life (``BudgetLedger.holder_life``), as ``HolderLifeSchema``;
    ``planned``: as a dry run left it."""
    found = services().ledger.holder_life(code, planned=planned)
    registered = found.pop("registered")
    return {**found, "actor": registered["actor"], "registered_at": registered["recorded_at"]}


@blp.route("/holders")
class HoldersEndpoint(MethodView):
    @blp.arguments(schemas.HoldersQuerySchema(), location="query")
    @blp.response(200, schemas.HoldersSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The holders within the token's scope as they stood on ``as_of`` (default today),
        by code, a page at a time: each with its name and the holder above it then, through
        successions (a holder whose parent ended sits under the parent's successor).
        ``all``: also the holders ended by then, with ``ended_on`` and ``successor``."""
        projections = read_models()
        day = query.get("as_of") or today_in_vietnam()
        rows = holders_on(projections, day, ended=query["all"])
        allowed = scope_holders(projections)
        if allowed is not None:
            rows = [row for row in rows if row["code"] in allowed]
        found = paging.page(rows, BY_CODE, query)
        return {"holders": found.rows, "next": found.next}, 200, found.headers

    @blp.arguments(schemas.HolderRequestSchema())
    @blp.response(201, schemas.HolderSchema, description="Registered (or already so).")
    @blp.alt_response(200, schema=schemas.DryRunHolderSchema, description=DRY_RUN_DESCRIPTION)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(parameters=[DRY_RUN_QUERY])
    def post(self, body: dict[str, Any]) -> Any:
        """Register a holder under its parent (from ``since``, or always); registering the
        same holder again changes nothing, a code is never given to a second holder."""
        require_write("holder")
        dry_run = dry_run_requested()
        parent = body.get("parent")
        if parent:
            require_scope(check_code(parent, field="parent"))
        else:
            require_unscoped("a holder without a parent")
        holder = services().ledger.register_holder(
            body["code"],
            body["name"],
            body["level"],
            parent,
            actor=caller().name,
            since=body.get("since"),
            dry_run=dry_run,
        )
        if dry_run:
            return dry_answer(schemas.HolderSchema().dump(as_dict(holder)))
        return as_dict(holder), 201, {"Location": f"/holders/{holder.code}"}


@blp.route("/holders/<string:code>")
class HolderEndpoint(MethodView):
    @blp.response(200, schemas.HolderLifeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> Any:
        """One holder and its life: registration, moves, renames and end with their dates
        and decisions, and its predecessors (the holders that ended into it)."""
        try:
            holder = services().ledger.get_holder(code.strip().upper())
        except UnknownHolder:
            abort(404, description=f"no holder has code {code}")
        require_scope(holder.code)
        return life(holder.code)


@blp.route("/holders/<string:code>/moves")
class HolderMovesEndpoint(MethodView):
    @blp.arguments(schemas.HolderMoveSchema())
    @blp.response(201, schemas.HolderLifeSchema, description="Moved; the holder's life.")
    @blp.alt_response(200, schema=schemas.DryRunHolderLifeSchema, description=DRY_RUN_DESCRIPTION)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(parameters=[DRY_RUN_QUERY])
    def post(self, body: dict[str, Any], code: str) -> Any:
        """From ``effective_date`` the holder (and everything below it) sits under
        ``parent``. Both must lie in the token's scope."""
        require_write("holder")
        holder = check_code(code, field="code")
        require_scope(holder, check_code(body["parent"], field="parent"), on=body["effective_date"])
        dry_run = dry_run_requested()
        planned = services().ledger.move_holder(
            holder,
            body["parent"],
            body["effective_date"],
            decision=body["decision"],
            actor=caller().name,
            dry_run=dry_run,
        )
        if dry_run:
            return dry_answer(schemas.HolderLifeSchema().dump(life(holder, planned=planned)))
        return life(holder), 201, {"Location": f"/holders/{holder}"}


@blp.route("/holders/<string:code>/renames")
class HolderRenamesEndpoint(MethodView):
    @blp.arguments(schemas.HolderRenameSchema())
    @blp.response(201, schemas.HolderLifeSchema, description="Renamed; the holder's life.")
    @blp.alt_response(200, schema=schemas.DryRunHolderLifeSchema, description=DRY_RUN_DESCRIPTION)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(parameters=[DRY_RUN_QUERY])
    def post(self, body: dict[str, Any], code: str) -> Any:
        """From ``effective_date`` the holder is called ``name``."""
        require_write("holder")
        holder = check_code(code, field="code")
        require_scope(holder, on=body["effective_date"])
        dry_run = dry_run_requested()
        planned = services().ledger.rename_holder(
            holder,
            body["name"],
            body["effective_date"],
            decision=body["decision"],
            actor=caller().name,
            dry_run=dry_run,
        )
        if dry_run:
            return dry_answer(schemas.HolderLifeSchema().dump(life(holder, planned=planned)))
        return life(holder), 201, {"Location": f"/holders/{holder}"}


@blp.route(Succeed.endpoint)
class SuccessionsEndpoint(MethodView):
    @blp.arguments(schemas.SuccessionSchema())
    @blp.response(201, schemas.ReceiptSchema, description="Recorded (or replayed).")
    @blp.alt_response(409, response="CONFLICT", description=REFUSALS[409])
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description=REFUSALS[422])
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE", description=REFUSALS[503])
    @blp.alt_response(200, schema=schemas.DryRunReceiptSchema, description=DRY_RUN_DESCRIPTION)
    @blp.doc(parameters=[IDEMPOTENCY_HEADER, DRY_RUN_QUERY])
    def post(self, succession: Succeed) -> Any:
        """A succession: the holders ``from_holders`` end at the start of
        ``effective_date`` and ``to_holder`` (one of them, an existing holder, or a new one
        given ``name``, ``level`` and ``parent``) takes every line they hold, each whole to
        its line of the same key with any running extension. Approver or admin, without a
        scope. Idempotent by ``movement_id`` like every movement."""
        # The role and the scope were checked as the body was loaded (SuccessionSchema).
        return save(succession)
