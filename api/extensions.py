"""``LedgerApi``: flask-smorest's ``Api`` answering every error as RFC 9457 problem details,
and documenting them so in the OpenAPI document."""

from __future__ import annotations

import http
import json as stdlib_json
import logging
import re
from typing import Any

import flask_smorest
from flask import Response, current_app, json, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from api.auth import Forbidden, TooManyAttempts, Unauthenticated
from api.errors import (
    API_PROBLEMS,
    PROBLEM_CONTENT_TYPE,
    links,
    problem_document,
    rule_problem,
)
from api.schemas import NUMBER_DIGITS_MAX, LongNumber, ProblemSchema
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.values import check_characters
from ledger.storage.availability import is_unavailable, unavailable_reason
from ledger.storage.settings import RETRY_AFTER_S

log = logging.getLogger("budget_ledger.api")
NOTHING_RECORDED = " Nothing was recorded."

# werkzeug's exception for each status, by our problem name.
HTTP_RULES = {
    404: "not-found",
    405: "method-not-allowed",
    415: "unsupported-media-type",
    503: "unavailable",
}


class UnreadableJson(ValueError):
    """A body that is JSON only by a lenient reading, or that Python cannot read whole."""

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are text and each given once: Python's json keeps the last
    of a repeated key, so '{"amount_vnd": 1, "amount_vnd": 1000}' would be half-understood."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        try:
            check_characters(key, field="body")
        except InvalidInput as error:
            raise UnreadableJson(f"a key {error.message}") from None
        if key in found:
            raise UnreadableJson("is given twice; send each field once", field=key)
        found[key] = value
    return found


def _number(text: str) -> int | LongNumber:
    # Longer numbers are never right, and past 4,300 digits int() raises ValueError: the
    # schema refuses the marker naming its field.
    return int(text) if len(text.lstrip("-")) <= NUMBER_DIGITS_MAX else LongNumber(text)


def _constant(name: str) -> Any:
    raise UnreadableJson(f"holds {name}, which is not JSON (RFC 8259 has no such number)")


class LedgerJSONProvider(DefaultJSONProvider):
    """The app's JSON: answers as written (non-ASCII kept, keys in order), and requests read
    strictly, in this one place for every body: UTF-8 only, no key twice, no NaN or
    Infinity, no integer too long to convert, no nesting deeper than the parser's
    recursion allows. Each refusal is an UnreadableJson the argument parser answers 422."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if isinstance(s, (bytes, bytearray)):
            try:
                s = bytes(s).decode("utf-8")
            except UnicodeDecodeError as error:
                byte = error.object[error.start]
                raise UnreadableJson(
                    f"is not UTF-8 text (byte {error.start + 1} is {byte:#04x}); send UTF-8"
                ) from None
        try:
            return stdlib_json.loads(
                s, object_pairs_hook=_object, parse_int=_number, parse_constant=_constant
            )
        except RecursionError:
            raise UnreadableJson(
                "nests arrays or objects too deeply to be read; a request is a flat object"
            ) from None


class LedgerParser(FlaskParser):
    """webargs' parser reading JSON bodies with the app's strict provider."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        try:
            return current_app.json.loads(data)
        except UnreadableJson as error:
            abort(422, messages={"json": {error.field: [error.message]}})
        except ValueError as error:  # json.JSONDecodeError: not JSON at all
            abort(422, messages={"json": {"body": [f"is not JSON: {error}"]}})


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with the strict JSON parser: every route's arguments."""

    ARGUMENTS_PARSER = LedgerParser()


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
    body = {**problem_document(status, rule, title, detail, errors), **members}
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


# A Flask rule's variable (<string:code>) as OpenAPI writes it ({code}).
RULE_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


class LedgerApi(Api):  # type: ignore[misc]
    ERROR_SCHEMA = ProblemSchema
    _query_names: dict[tuple[str, str], set[str]] | None = None

    def document_positions(self) -> None:
        """Every read of the ledger (a GET that needs a token) takes ``min_position`` and
        ``Min-Position``, and every answer may carry ``Ledger-Position`` (api/routing.py):
        written into each operation of the OpenAPI document, which ``refuse_unknown_query``
        then reads as it reads every other parameter."""
        from api.routing import MIN_POSITION_HEADER, MIN_POSITION_PARAMETER, POSITION_HEADER

        said = (
            "The answer reflects at least every event up to this log position (a value "
            f"of {POSITION_HEADER} a write answered with): a replica serves it once it has "
            "got there, else the primary. A position past the log's head is refused (422)."
        )
        schema = {"type": "integer", "minimum": 0}
        parameters = [
            {"in": "query", "name": MIN_POSITION_PARAMETER, "required": False,
             "schema": schema, "description": said},
            {"in": "header", "name": MIN_POSITION_HEADER, "required": False,
             "schema": schema, "description": f"The same as {MIN_POSITION_PARAMETER}."},
        ]  # fmt: skip
        header = {
            POSITION_HEADER: {
                "description": "The log position the answer reflects (a read: at least "
                "every event up to it; a write: its last event).",
                "schema": {"type": "integer"},
            }
        }
        for item in self.spec._paths.values():  # noqa: SLF001 (apispec keeps them there)
            for method, operation in item.items():
                if method == "parameters" or operation.get("security") == []:
                    continue
                if method == "get":
                    operation.setdefault("parameters", []).extend(parameters)
                for status, response in operation.get("responses", {}).items():
                    if str(status).startswith("2") and isinstance(response, dict):
                        response.setdefault("headers", {}).update(header)

    def refuse_unknown_query(self) -> None:
        """A query parameter that the request's operation does not take, as the OpenAPI
        document describes it, is refused (422 naming it), never ignored: a misspelt filter
        (``holdr``) would answer more than was asked, a misspelt ``dry_run`` would record.
        Every operation of the API, whether it takes query parameters or none; the pages
        and the documentation are not operations of the API."""
        rule = request.url_rule
        if rule is None or not request.args:
            return
        method = "get" if request.method == "HEAD" else request.method.lower()
        taken = self.query_names().get((RULE_VARIABLE.sub(r"{\1}", rule.rule), method))
        if taken is None:
            return
        unknown = [name for name in request.args if name not in taken]
        if unknown:
            takes = f"it takes {', '.join(sorted(taken))}" if taken else "it takes none"
            said = f"is not a query parameter of {request.method} {rule.rule}; {takes}"
            abort(422, messages={"query": {name: [said] for name in unknown}})

    def query_names(self) -> dict[tuple[str, str], set[str]]:
        """The query parameters of each operation (path, method) of the OpenAPI document,
        read from it once: the schemas it is made of are the one list of them."""
        if self._query_names is None:
            found: dict[tuple[str, str], set[str]] = {}
            for path, item in self.spec.to_dict()["paths"].items():
                shared = item.get("parameters", [])
                for method, operation in item.items():
                    if method == "parameters":
                        continue
                    parameters = [*shared, *operation.get("parameters", [])]
                    found[(path, method)] = {
                        parameter["name"] for parameter in parameters if parameter["in"] == "query"
                    }
            self._query_names = found
        return self._query_names

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
        # The exception's own headers: 405's Allow (RFC 9110 §15.5.6 requires it).
        headers = {
            name: value
            for name, value in error.get_headers()
            if name.lower() not in ("content-type", "content-length")
        }
        return problem(status, rule, error.name, error.description or error.name, headers=headers)

    def handle_refusal(self, error: LedgerError) -> Response:
        found = rule_problem(error)
        headers = {"Retry-After": "1"} if found.status == 503 else None
        errors = {error.field: [error.message]} if error.field else None
        helps = links(error)
        return problem(
            found.status,
            error.rule,
            found.title,
            f"{error}.{NOTHING_RECORDED if request.method == 'POST' else ''}",
            errors=errors,
            headers=headers,
            **({"links": helps} if helps else {}),
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

    def handle_too_many_attempts(self, error: TooManyAttempts) -> Response:
        found = API_PROBLEMS["too-many-attempts"]
        return problem(
            429,
            "too-many-attempts",
            found.title,
            str(error),
            headers={"Retry-After": str(error.retry_after)},
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
