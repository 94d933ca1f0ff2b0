"""How the ledger's refusals and the API's own errors are told over HTTP (RFC 9457).

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status`` and
``detail``; a refusal also names its ``rule`` and, when one field is at fault, ``errors``
``{field: [message]}``. ``type`` is a path on this API (``/problems/<rule>``) that answers
what the rule means, so a client can look a refusal up without reading our source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain import errors

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    description: str


# One row per refusal the ledger can give. 422: the request itself cannot be right (a
# malformed value, a holder or movement that does not exist, holders that are not related);
# 409: the request is well formed but the books as they stand refuse it (the money is not
# there, the deadline has passed, the id was used for something else); 503: try again.
RULES: dict[type[errors.LedgerError], Problem] = {
    errors.InvalidInput: Problem(422, "Invalid input", "A value is malformed or out of range."),
    errors.UnknownHolder: Problem(
        422, "Unknown holder", "No holder has this code; register it first (POST /holders)."
    ),
    errors.ProgramNotValid: Problem(
        422,
        "Program not valid",
        "No program with this code is registered for the line's plan year; the valid ones "
        "are named (GET /programs; register one with POST /programs).",
    ),
    errors.UnknownMovement: Problem(
        422, "Unknown movement", "No movement has this id (reversals name a disbursement)."
    ),
    errors.NotRelated: Problem(
        422,
        "Holders not related",
        "An allocation goes from a holder to one of its direct children; a reallocation "
        "between two holders of the same line.",
    ),
    errors.HolderEnded: Problem(
        409,
        "Holder ended",
        "The holder ended at a succession before the effective date (or had not begun by "
        "it): nothing effective from then is recorded on its lines; record it on its "
        "successor's (the detail names it, links.successor shows it).",
    ),
    errors.InsufficientFunds: Problem(
        409,
        "Available amount would be negative",
        "The movement would make a line's available amount negative on some date.",
    ),
    errors.PastDeadline: Problem(
        409, "Past deadline", "The line's deadline has passed for this movement."
    ),
    errors.NotExtended: Problem(
        409,
        "Exceeds extension",
        "After the ordinary deadline only the extended amount may be paid.",
    ),
    errors.NothingToDo: Problem(
        409, "Nothing to do", "Nothing is left to reverse, lapse or extend."
    ),
    errors.MovementIdConflict: Problem(
        409,
        "Movement id reused",
        "The movement id was already used for a different movement; choose a new id.",
    ),
    errors.Busy: Problem(
        503,
        "Busy",
        "Other writers kept changing the same lines; nothing was recorded, send it again.",
    ),
    errors.NoLedger: Problem(503, "No ledger", "The server's database holds no ledger."),
}

# The API's own problems, beside the ledger's rules.
API_PROBLEMS: dict[str, Problem] = {
    "validation": Problem(
        422, "Invalid request", "The request does not match the documented schema."
    ),
    "unauthenticated": Problem(
        401,
        "Missing or bad token",
        "Send 'Authorization: Bearer <token>'; tokens come from 'budget-ledger tokens create'.",
    ),
    "forbidden": Problem(
        403,
        "Outside the token's role or scope",
        "The token's role does not allow this, or the holder is outside its scope's subtree.",
    ),
    "too-many-attempts": Problem(
        429,
        "Too many failed authentications",
        "Tokens from this address failed too often lately; wait the Retry-After seconds.",
    ),
    "not-found": Problem(404, "Not found", "No such resource."),
    "method-not-allowed": Problem(405, "Method not allowed", "See /openapi.json."),
    "unsupported-media-type": Problem(
        415, "Unsupported media type", "Send the body as application/json."
    ),
    "http-error": Problem(400, "Bad request", "The request could not be understood."),
    "uri-too-long": Problem(
        414,
        "Request line too long",
        "The request line is longer than the server reads (4094 bytes): send fewer or "
        "shorter query parameters.",
    ),
    "header-fields-too-large": Problem(
        431,
        "Request headers too large",
        "More than 100 headers, or one longer than 8190 bytes.",
    ),
    "not-implemented": Problem(
        501, "Not implemented", "The request uses an HTTP feature the server does not support."
    ),
    "expectation-failed": Problem(417, "Expectation failed", "Send the request without Expect."),
    "unavailable": Problem(
        503,
        "Database unavailable",
        "The ledger's database does not answer, or lost the connection. A write may or may "
        "not have been recorded: after Retry-After seconds send it again with the same "
        "movement id, which records it at most once and answers as the first did.",
    ),
    "internal": Problem(
        500,
        "Internal error",
        "The server failed; it has been logged. A write may or may not have been recorded: "
        "send it again with the same movement id, which records it at most once.",
    ),
}


# The API's way on from a refusal, by rule: resources that help (the problem's ``type``
# says what the rule means). The ledger's message names codes and fields only.
LINKS: dict[str, dict[str, str]] = {
    "unknown-holder": {"holders": "/holders"},
    "program-not-valid": {"programs": "/programs"},
}
# Where to record the movement a refusal names as its remedy.
REMEDY_LINKS: dict[str, dict[str, str]] = {"extend": {"extensions": "/extensions"}}


def links(error: errors.LedgerError) -> dict[str, str] | None:
    """The resources that help with ``error``, by name, or None: for holder-ended, the
    holder's life and its successor's."""
    if error.rule == errors.HolderEnded.rule:
        named = {"holder": error.values.get("code"), "successor": error.values.get("successor")}
        return {name: f"/holders/{code}" for name, code in named.items() if code} or None
    return LINKS.get(error.rule) or REMEDY_LINKS.get(error.values.get("remedy", ""))


def problem_document(
    status: int,
    rule: str,
    title: str,
    detail: str,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, object]:
    """The body of every error the API answers, from the application or from the server."""
    body: dict[str, object] = {
        "type": problem_type(rule),
        "title": title,
        "status": status,
        "detail": detail,
        "rule": rule,
    }
    if errors:
        body["errors"] = errors
    return body


def rule_problem(error: errors.LedgerError) -> Problem:
    for cls in type(error).__mro__:
        if cls in RULES:
            return RULES[cls]
    return Problem(422, "Refused", "The ledger refused the request.")


def problem_type(rule: str) -> str:
    return f"/problems/{rule}"


def all_problems() -> dict[str, Problem]:
    """Every problem type by its rule name, for /problems/<rule>."""
    return {**{cls.rule: problem for cls, problem in RULES.items()}, **API_PROBLEMS}
