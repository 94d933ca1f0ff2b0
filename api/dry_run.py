"""``?dry_run=true`` on every write: the same role, scope and ledger checks and the same
refusals as the real write, nothing recorded. The answer is 200 (nothing was created), with
the header ``Dry-Run: true`` and a body of what the write would answer plus ``"dry_run": true``
(docs/decisions.md, "A dry run's answer")."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ledger.domain.errors import InvalidInput

DRY_RUN_QUERY = {
    "in": "query",
    "name": "dry_run",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "true: check the write as usual and record nothing (answer 200, header "
    "Dry-Run: true, the body with dry_run true).",
}
DRY_RUN_DESCRIPTION = "Dry run (dry_run=true): what would be recorded; nothing was."


def dry_run_requested() -> bool:
    """Whether the request asks for a dry run: ``dry_run`` is ``true`` or ``false``."""
    value = request.args.get("dry_run")
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise InvalidInput(
        f"dry_run must be true or false, not {value[:20]!r}; leave it out to record",
        field="dry_run",
    )


def dry_answer(body: dict[str, Any], **headers: str) -> Response:
    """The dry run's answer: 200, ``Dry-Run: true``, ``body`` (already dumped) marked."""
    response = jsonify({**body, "dry_run": True})
    response.status_code = 200
    response.headers["Dry-Run"] = "true"
    response.headers.update(headers)
    return response
