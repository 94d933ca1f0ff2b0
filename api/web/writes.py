"""Recording from the pages with a preview first: a reallocation (approvers and admins) and
a disbursement (clerks and up). The form asks; the preview (GET, so its address can be kept
and sent) shows each line the movement touches before and after on every date it changes,
or the refusal, before anything is recorded; confirming (POST, with the CSRF token) records
it under the movement id the preview chose, so a second click records nothing twice.

The body is loaded by the API's own schema for the kind (the same checks, the same role
check) and recorded by the same ledger call, with the person's name as the actor."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, redirect, render_template, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response as AnyResponse

from api import schemas
from api.auth import caller, require_scope, require_write, services
from api.errors import rule_problem
from api.extensions import flatten
from api.web.views import blp, with_query
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.movements import KINDS, MovementRequest
from ledger.domain.values import check_year, read_amount

# The pages that record, by action: the fields each form asks for, in order.
FORMS: dict[str, tuple[str, ...]] = {
    "reallocate": ("program", "kind", "source", "year", "from_holder", "to_holder",
                   "amount_vnd", "decision", "effective_date", "note"),
    "disburse": ("program", "kind", "source", "year", "holder", "amount_vnd", "voucher",
                 "effective_date", "note"),
}  # fmt: skip


def _asked(action: str, values: Any) -> dict[str, str]:
    return {name: (values.get(name) or "").strip() for name in FORMS[action]}


def _request(action: str, asked: dict[str, str], movement_id: str) -> MovementRequest:
    """The movement the form asks for, loaded by the API's schema for its kind."""
    body: dict[str, Any] = {name: value for name, value in asked.items() if value}
    if "year" in body:  # a form sends text; the schema takes JSON's numbers
        body["year"] = check_year(body["year"])
    if "amount_vnd" in body:
        body["amount_vnd"] = read_amount(body["amount_vnd"])
    body["movement_id"] = movement_id
    try:
        loaded: MovementRequest = schemas.movement_schema(KINDS[action])().load(body)
    except ValidationError as error:
        field, messages = next(iter(flatten(error.messages).items()))
        raise InvalidInput(" ".join(messages), field=field) from None
    holders = [key.holder for key in loaded.named_lines()]
    require_scope(*holders, on=loaded.effective_date)
    return loaded


def _page(action: str, **context: Any) -> str:
    return render_template("write.html", action=action, fields=FORMS[action], **context)


def _form(action: str) -> AnyResponse:
    require_write(action)
    asked = _asked(action, request.args)
    if not request.args.get("preview"):
        return Response(_page(action, asked=asked))
    movement_id = request.args.get("movement_id")
    if not movement_id:
        # The preview's address carries the id the confirmation records under: reloaded,
        # sent to a colleague or confirmed again after Back, it records nothing twice.
        return redirect(with_query(request.path, movement_id=f"web-{secrets.token_hex(8)}"), 303)
    try:
        movement = _request(action, asked, movement_id)
        preview = services().ledger.preview(movement, actor=caller().name)
    except LedgerError as refusal:
        status = rule_problem(refusal).status
        return Response(_page(action, asked=asked, refusal=str(refusal)), status=status)
    return Response(
        _page(action, asked=asked, preview=preview, movement_id=movement_id, movement=movement)
    )


def _confirm(action: str) -> AnyResponse:
    require_write(action)
    asked = _asked(action, request.form)
    movement_id = request.form.get("movement_id", "")
    try:
        movement = _request(action, asked, movement_id)
        receipt, _ = services().ledger.record(movement, actor=caller().name)
    except LedgerError as refusal:
        status = rule_problem(refusal).status
        return Response(_page(action, asked=asked, refusal=str(refusal)), status=status)
    return redirect(f"/movements/{receipt['movement_id']}", code=303)


@blp.get("/reallocate")
def reallocate_form() -> AnyResponse:
    return _form("reallocate")


@blp.post("/reallocate")
def reallocate() -> AnyResponse:
    return _confirm("reallocate")


@blp.get("/disburse")
def disburse_form() -> AnyResponse:
    return _form("disburse")


@blp.post("/disburse")
def disburse() -> AnyResponse:
    return _confirm("disburse")
