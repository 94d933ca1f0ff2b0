"""The ledger's refusals: each names its rule and the field at fault, says why, and carries
the values it names.

A ``LedgerError`` is raised by a guard before any event exists, so a refusal records nothing.
Its message speaks of the ledger only (codes, fields, figures), never of a command or an
option: each edge adds its own way on, the CLI the command to run (cli/common.py HINTS), the
API a link (api/errors.py LINKS). Programmer errors are ``AssertionError``/
``InvariantViolation`` and are never caught.
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """A refusal the user can act on."""

    # A stable name for the rule that refused, for scripts and (later) the HTTP API.
    rule = "ledger-error"

    def __init__(self, message: str, *, field: str | None = None, **values: Any) -> None:
        """``values``: what the message names (a code, a database), for an edge's hint;
        ``missing=True`` says ``field`` was required and not given; ``remedy`` names the
        movement that would allow it (``extend``)."""
        super().__init__(message)
        self.message = message
        self.field = field
        self.values = values

    def __str__(self) -> str:
        if self.field:
            return f"{self.field}: {self.message}"
        return self.message


class InvalidInput(LedgerError):
    """A value is malformed or out of range."""

    rule = "invalid-input"


class UnknownHolder(LedgerError):
    rule = "unknown-holder"


class ProgramNotValid(LedgerError):
    """No program with this code is registered for the line's plan year."""

    rule = "program-not-valid"


class UnknownMovement(LedgerError):
    rule = "unknown-movement"


class NotRelated(LedgerError):
    """The holders named do not stand in the relation the movement needs."""

    rule = "holders-not-related"


class HolderEnded(LedgerError):
    """The holder ended at a succession before the movement's effective date (or had not
    begun by it): its lines take nothing effective from that day; its successor's do."""

    rule = "holder-ended"


class InsufficientFunds(LedgerError):
    """The movement would make a line's available amount negative on some date."""

    rule = "available-never-negative"


class PastDeadline(LedgerError):
    rule = "past-deadline"


class NotExtended(LedgerError):
    """A payment after the ordinary deadline exceeds what was extended."""

    rule = "exceeds-extension"


class NothingToDo(LedgerError):
    """The movement would move nothing (nothing left to reverse, lapse or extend)."""

    rule = "nothing-to-do"


class MovementIdConflict(LedgerError):
    """The movement id was already used for a different movement."""

    rule = "movement-id-reused"


class Busy(LedgerError):
    """Other writers kept changing the same lines; the command gave up after bounded retries."""

    rule = "busy"


class NoLedger(LedgerError):
    rule = "no-ledger"


class InvariantViolation(Exception):
    """A programmer error: state the ledger must never reach. Never caught."""
