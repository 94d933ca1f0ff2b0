"""The ledger's refusals: each names the field at fault and says why, and what to do.

A ``LedgerError`` is raised by a guard before any event exists, so a refusal records nothing.
Programmer errors are ``AssertionError``/``InvariantViolation`` and are never caught.
"""

from __future__ import annotations


class LedgerError(Exception):
    """A refusal the user can act on."""

    # A stable name for the rule that refused, for scripts and (later) the HTTP API.
    rule = "ledger-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        if self.field:
            return f"{self.field}: {self.message}"
        return self.message


class InvalidInput(LedgerError):
    """A value is malformed or out of range."""

    rule = "invalid-input"


class UnknownHolder(LedgerError):
    rule = "unknown-holder"


class UnknownMovement(LedgerError):
    rule = "unknown-movement"


class NotRelated(LedgerError):
    """The holders named do not stand in the relation the movement needs."""

    rule = "holders-not-related"


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
