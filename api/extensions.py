"""``LedgerApi``: flask-smorest's ``Api`` answering every error as RFC 9457 problem details,
and documenting them so in the OpenAPI document."""

from __future__ import annotations

import http
import logging
from typing import Any

from flask import Response, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from api.auth import Forbidden, Unauthenticated
from api.errors import API_PROBLEMS, PROBLEM_CONTENT_TYPE, problem_type, rule_problem
from api.schemas import ProblemSchema
from ledger.availability import RETRY_AFTER_S, is_unavailable, unavailable_reason
from ledger.errors import LedgerError

log = logging.getLogger("budget_ledger.api")
NOTHING_RECORDED = " Nothing was recorded."

# werkzeug's exception for each status, by our problem name.
HTTP_RULES = {
    404: "not-found",
    405: "method-not-allowed",
    415: "unsupported-media-type",
    503: "unavailable",
}


def problem(
    status: int,
    rule: str,
    title: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> Response:
    """A problem+json answer; ``members``: extension members of the problem type."""
    body: dict[str, Any] = {
        "type": problem_type(rule),
        "title": title,
        "status": status,
        "detail": detail,
        "rule": rule,
        **members,
    }
    if errors:
        body["errors"] = errors
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def unavailable(detail: str | None = None, **members: Any) -> Response:
    """503 problem: the database does not answer; come back after Retry-After seconds."""
    found = API_PROBLEMS["unavailable"]
    return problem(
        503,
        "unavailable",
        found.title,
        detail or found.description,
        headers={"Retry-After": str(RETRY_AFTER_S)},
        **members,
    )


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs' ``{"json": {"lines": {"0": {"amount_vnd": [...]}}}}`` as
    ``{"lines.0.amount_vnd": [...]}``; the location (json, query, headers) is dropped."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


class LedgerApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages") or data.get("errors")
        if status == 422 or messages:
            errors: dict[str, list[str]] = {}
            for location_messages in (messages or {}).values():
                errors.update(flatten(location_messages))
            problem_ = API_PROBLEMS["validation"]
            return problem(
                422,
                "validation",
                problem_.title,
                "; ".join(f"{field}: {' '.join(text)}" for field, text in errors.items())
                or problem_.description,
                errors=errors,
            )
        if status >= 500 and status not in HTTP_RULES:
            return self.handle_unexpected(error)
        if status == 503:
            return unavailable(error.description)
        rule = HTTP_RULES.get(status, "http-error")
        return problem(status, rule, error.name, error.description or error.name)

    def handle_refusal(self, error: LedgerError) -> Response:
        found = rule_problem(error)
        headers = {"Retry-After": "1"} if found.status == 503 else None
        errors = {error.field: [error.message]} if error.field else None
        return problem(
            found.status,
            error.rule,
            found.title,
            f"{error}.{NOTHING_RECORDED if request.method == 'POST' else ''}",
            errors=errors,
            headers=headers,
        )

    def handle_unauthenticated(self, error: Unauthenticated) -> Response:
        found = API_PROBLEMS["unauthenticated"]
        return problem(
            401,
            "unauthenticated",
            found.title,
            str(error),
            headers={"WWW-Authenticate": 'Bearer realm="budget-ledger"'},
        )

    def handle_forbidden(self, error: Forbidden) -> Response:
        found = API_PROBLEMS["forbidden"]
        suffix = NOTHING_RECORDED if request.method == "POST" else ""
        return problem(403, "forbidden", found.title, f"{error}.{suffix}")

    def handle_database_error(self, error: Exception) -> Response:
        """503 when the database does not answer (the write may or may not have been
        recorded: the problem says so, and when to come back); any other database error is
        unexpected."""
        if not is_unavailable(error):
            return self.handle_unexpected(error)
        log.warning("the database does not answer: %s", unavailable_reason(error))
        return unavailable()

    def handle_unexpected(self, error: BaseException) -> Response:
        log.exception("unexpected error", exc_info=error)
        found = API_PROBLEMS["internal"]
        return problem(500, "internal", found.title, found.description)

    def _register_responses(self) -> None:
        """flask-smorest's own registration, but every error is documented as
        application/problem+json with ProblemSchema (its default says application/json)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)
