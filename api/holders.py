"""Holders (đơn vị): register one, list them, look one up; within the token's scope."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.views import MethodView

from api import schemas
from api.auth import caller, in_scope, require_scope, require_unscoped, require_write, services
from api.extensions import Blueprint
from ledger.domain.errors import UnknownHolder
from ledger.domain.values import check_code

blp = Blueprint("holders", __name__, description="The tree of holders.")


def as_dict(holder: Any) -> dict[str, Any]:
    return {
        "code": holder.code,
        "name": holder.name,
        "level": holder.level,
        "parent": holder.parent,
        "actor": holder.actor,
        "registered_at": getattr(holder, "registered_at", None) or holder.created_on,
    }


@blp.route("/holders")
class HoldersEndpoint(MethodView):
    @blp.response(200, schemas.HolderSchema(many=True))
    def get(self) -> Any:
        """Every holder within the token's scope, by code."""
        return [
            as_dict(holder) for holder in services().ledger.list_holders() if in_scope(holder.code)
        ]

    @blp.arguments(schemas.HolderRequestSchema())
    @blp.response(201, schemas.HolderSchema, description="Registered (or already so).")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> Any:
        """Register a holder under its parent; registering the same holder again changes
        nothing, a code is never given to a second holder."""
        require_write("holder")
        parent = body.get("parent")
        if parent:
            require_scope(check_code(parent, field="parent"))
        else:
            require_unscoped("a holder without a parent")
        holder = services().ledger.register_holder(
            body["code"], body["name"], body["level"], parent, actor=caller().name
        )
        return as_dict(holder), 201, {"Location": f"/holders/{holder.code}"}


@blp.route("/holders/<string:code>")
class HolderEndpoint(MethodView):
    @blp.response(200, schemas.HolderSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> Any:
        """One holder."""
        try:
            holder = services().ledger.get_holder(code.strip().upper())
        except UnknownHolder:
            abort(404, description=f"no holder has code {code}")
        require_scope(holder.code)
        return as_dict(holder)
