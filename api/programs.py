"""Programs: the codes a line may name, each for its plan years; list them, register one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from api import paging, schemas
from api.auth import caller, require_unscoped, require_write, services
from api.dry_run import DRY_RUN_DESCRIPTION, DRY_RUN_QUERY, dry_answer, dry_run_requested
from api.extensions import Blueprint

blp = Blueprint("programs", __name__, description="The programs and their plan years.")
BY_CODE = paging.Ordering(lambda row: (row["code"],), (str,))


@blp.route("/programs")
class ProgramsEndpoint(MethodView):
    @blp.arguments(schemas.PageQuerySchema(), location="query")
    @blp.response(200, schemas.ProgramsSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Every program, by code, a page at a time, with the plan years its lines may
        have."""
        rows = [asdict(program) for program in services().ledger.list_programs()]
        found = paging.page(rows, BY_CODE, query)
        return {"programs": found.rows, "next": found.next}, 200, found.headers

    @blp.arguments(schemas.ProgramRequestSchema())
    @blp.response(201, schemas.ProgramSchema, description="Registered now.")
    @blp.alt_response(
        200,
        schema=schemas.DryRunProgramSchema,
        description="Already so registered (dry_run false); or " + DRY_RUN_DESCRIPTION,
    )
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(parameters=[DRY_RUN_QUERY])
    def post(self, body: dict[str, Any]) -> Any:
        """Register a program for plan years from_year to to_year (none: open-ended);
        registering it again the same way records nothing, a code is never given to other
        terms. A program covers the whole ledger: an approver or admin token without a
        scope."""
        require_write("program")
        require_unscoped("a program")
        dry_run = dry_run_requested()
        program, recorded = services().ledger.register_program(
            body["code"],
            body["name"],
            body["from_year"],
            body.get("to_year"),
            body["decision"],
            actor=caller().name,
            dry_run=dry_run,
        )
        if dry_run:
            return dry_answer(schemas.ProgramSchema().dump(asdict(program)))
        return asdict(program), 201 if recorded else 200
