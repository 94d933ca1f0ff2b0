"""Movements: the journal of the ledger.

A ``MovementRequest`` is what a user asks for, checked field by field before anything is
read. A ``Movement`` aggregate is the recorded movement: one per movement id, created in the
same transaction as the postings it causes on budget lines. Its id is derived from the
movement id, so a second movement with the same id cannot be inserted (the event store's
primary key refuses it): that is what makes every write idempotent, across processes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger import limits
from ledger.errors import InvalidInput
from ledger.values import (
    LineKey,
    check_amount,
    check_code,
    check_movement_id,
    check_text,
    movement_aggregate_id,
)

ACTIONS = ("adjust", "allocate", "reallocate", "disburse", "reverse", "extend", "lapse")

# The citation each action must carry, and the name it has at the edges (CLI, API).
REFERENCE_FIELD = {
    "adjust": "decision",
    "allocate": "decision",
    "reallocate": "decision",
    "disburse": "voucher",
    "reverse": "reason",
    "extend": "basis",
    "lapse": None,
}
REFERENCE_FIELDS = ("decision", "voucher", "reason", "basis")


@dataclass(frozen=True)
class MovementRequest:
    """One movement as asked for. ``line`` is None only for a reversal, whose line is the
    reversed payment's. ``holder`` is the line's holder, or the giving side of an allocation
    or reallocation; ``counterpart`` the receiving side."""

    action: str
    movement_id: str
    effective_date: date
    line: LineKey | None = None
    counterpart: str | None = None
    amount_vnd: int | None = None
    decision: str | None = None
    voucher: str | None = None
    reason: str | None = None
    basis: str | None = None
    reverses: str | None = None
    until: date | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        # Every request is checked whole on construction, so a request that exists is valid.
        if self.action not in ACTIONS:
            raise InvalidInput(f"unknown movement {self.action!r}", field="action")
        check_movement_id(self.movement_id)
        for name in REFERENCE_FIELDS:
            required = REFERENCE_FIELD[self.action] == name
            given = getattr(self, name)
            if given is not None and not required:
                raise InvalidInput(f"does not apply to {self.action}", field=name)
            text = check_text(
                given, field=name, length_max=limits.REFERENCE_LENGTH_MAX, required=required
            )
            object.__setattr__(self, name, text)
        note = check_text(
            self.note,
            field="note",
            length_max=limits.NOTE_LENGTH_MAX,
            required=False,
            multiline=True,
        )
        object.__setattr__(self, "note", note)
        self._check_shape()
        if self.line is not None:
            self.line.check_in_window(self.effective_date, field="effective_date")

    def _check_shape(self) -> None:
        action = self.action
        two_sided = action in ("allocate", "reallocate")
        if action == "reverse":
            if self.line is not None:
                raise InvalidInput("a reversal takes its line from the payment", field="line")
            if not self.reverses:
                raise InvalidInput(
                    "name the disbursement to reverse", field="reverses", missing=True
                )
            check_movement_id(self.reverses)
        else:
            if self.line is None:
                raise InvalidInput("name the line (program, kind, source, year)", field="line")
            if self.reverses is not None:
                raise InvalidInput(f"does not apply to {action}", field="reverses")
        if two_sided:
            if not self.counterpart:
                raise InvalidInput(f"{action} needs a receiving holder", field="to_holder")
            object.__setattr__(self, "counterpart", check_code(self.counterpart, field="to_holder"))
            assert self.line is not None
            if self.counterpart == self.line.holder:
                raise InvalidInput("the two holders must differ", field="to_holder")
        elif self.counterpart is not None:
            raise InvalidInput(f"does not apply to {action}", field="to_holder")
        if action in ("adjust", "allocate", "reallocate", "disburse"):
            if self.amount_vnd is None:
                raise InvalidInput("is required", field="amount_vnd")
            check_amount(self.amount_vnd, signed=action == "adjust")
        elif action in ("reverse", "extend"):
            if self.amount_vnd is not None:
                check_amount(self.amount_vnd)
        elif self.amount_vnd is not None:
            raise InvalidInput("a lapse takes what is left; give no amount", field="amount_vnd")
        if action == "extend":
            if self.until is None:
                raise InvalidInput(
                    "an extension needs its new deadline", field="until", missing=True
                )
        elif self.until is not None:
            raise InvalidInput(f"does not apply to {action}", field="until")

    def canonical(self) -> dict[str, Any]:
        """The request's content, in a form that compares and hashes the same everywhere."""
        content: dict[str, Any] = {}
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if isinstance(value, LineKey):
                value = value.as_dict()
            elif isinstance(value, date):
                value = value.isoformat()
            content[name] = value
        return content

    def fingerprint(self) -> str:
        return self._fingerprint

    def line_ids(self) -> list[UUID]:
        """The lines this movement names (a reversal names none: its line is the payment's)."""
        if self.line is None:
            return []
        if self.counterpart is None:
            return [self.line.line_id]
        return [self.line.line_id, self.line.with_holder(self.counterpart).line_id]

    # Both are asked for several times per movement (the replay checks, the Movement's
    # event, an import's lookups) and cost a hash each: worked out once per request.
    @cached_property
    def _fingerprint(self) -> str:
        return fingerprint(self.canonical())

    @cached_property
    def aggregate_id(self) -> UUID:
        return movement_aggregate_id(self.movement_id)


_FIELD_NAMES = tuple(field.name for field in fields(MovementRequest))


def fingerprint(canonical: dict[str, Any]) -> str:
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class Movement(Aggregate):
    """A recorded movement: what was asked, what the ledger did, who and when."""

    TOPIC = "budget_ledger:Movement"

    class Recorded(Aggregate.Created):
        TOPIC = "budget_ledger:Movement.Recorded"
        movement_id: str
        action: str
        request: dict[str, Any]
        fingerprint: str
        actor: str
        # What the ledger did: the amount it moved (resolved for reversals, extensions and
        # lapses), and each line touched with its available amount right after.
        amount_vnd: int
        lines: list[dict[str, Any]]

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:Movement.Created"

    class Reversed(Aggregate.Event):
        """A later reversal took back part of this disbursement."""

        TOPIC = "budget_ledger:Movement.Reversed"
        reversal_id: str
        amount_vnd: int

        def apply(self, movement: Movement) -> None:
            movement.reversed_vnd += self.amount_vnd

    def __init__(
        self,
        movement_id: str,
        action: str,
        request: dict[str, Any],
        fingerprint: str,
        actor: str,
        amount_vnd: int,
        lines: list[dict[str, Any]],
    ) -> None:
        self.movement_id = movement_id
        self.action = action
        self.request = request
        self.fingerprint = fingerprint
        self.actor = actor
        self.amount_vnd = amount_vnd
        self.lines = lines
        self.reversed_vnd = 0

    @classmethod
    def record(
        cls,
        request: MovementRequest,
        *,
        actor: str,
        amount_vnd: int,
        lines: list[dict[str, Any]],
        recorded_at: datetime,
    ) -> Movement:
        canonical = request.canonical()
        return cls._create(
            cls.Recorded,
            id=request.aggregate_id,
            movement_id=request.movement_id,
            action=request.action,
            request=canonical,
            fingerprint=request.fingerprint(),
            actor=actor,
            amount_vnd=amount_vnd,
            lines=lines,
            timestamp=recorded_at,
        )

    @property
    def recorded_at(self) -> datetime:
        return self.created_on

    @property
    def effective_date(self) -> date:
        return date.fromisoformat(self.request["effective_date"])

    @property
    def line_key(self) -> LineKey:
        """The first line the movement touched (the giving side of a two-sided move)."""
        return LineKey(**self.lines[0]["line"])

    @property
    def remaining_vnd(self) -> int:
        """What of a disbursement has not been reversed."""
        assert self.action == "disburse"
        return self.amount_vnd - self.reversed_vnd

    def take_back(self, reversal_id: str, amount_vnd: int, at: datetime) -> None:
        assert 0 < amount_vnd <= self.remaining_vnd
        self.trigger_event(
            self.Reversed, reversal_id=reversal_id, amount_vnd=amount_vnd, timestamp=at
        )

    def differences(self, request: MovementRequest) -> list[str]:
        """The fields in which ``request`` differs from the one first recorded under this id."""
        given = request.canonical()
        return sorted(name for name in given if given[name] != self.request.get(name))

    def receipt(self) -> dict[str, Any]:
        """The answer to the command; a replay of the same request gets exactly this."""
        return {
            "movement_id": self.movement_id,
            "action": self.action,
            "effective_date": self.request["effective_date"],
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "amount_vnd": self.amount_vnd,
            "lines": [dict(entry) for entry in self.lines],
        }
