"""The journal: every movement's effect on each line it touched, derived from the movements
alone. ``check`` and ``history`` use it to recompute figures independently of the line
aggregates, so a disagreement between the two shows up instead of being copied."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.domain.movements import RECORDED_KINDS, Extend
from ledger.domain.values import LineKey

# For each action, the change to each figure of the lines it touched, per unit of amount:
# index 0 is the line (or the giving side), index 1 the receiving side (each kind's ``effects``).
# A line touched beyond those, or changed more than that, lists its other postings itself
# (``postings`` in its entry of the movement's ``lines``: see ``Movement.Recorded``).
EFFECTS = {action: kind.effects for action, kind in RECORDED_KINDS.items()}
FIGURES = (
    "assigned_vnd",
    "allocated_on_vnd",
    "disbursed_vnd",
    "lapsed_vnd",
    "passed_on_vnd",
    "received_vnd",
)


@dataclass(frozen=True)
class Posting:
    movement_id: str
    action: str
    position: int
    line: LineKey
    effective_date: date
    changes: dict[str, int]
    amount_vnd: int

    @property
    def available_change_vnd(self) -> int:
        # Written out here on purpose, not ledger.values.available_vnd: ``check`` recomputes
        # every figure from the journal alone to compare with the lines, so a mistake in the
        # shared formula shows as a disagreement instead of hiding on both sides.
        c = self.changes
        return (
            c.get("assigned_vnd", 0)
            - c.get("allocated_on_vnd", 0)
            - c.get("disbursed_vnd", 0)
            - c.get("lapsed_vnd", 0)
            - c.get("passed_on_vnd", 0)
        )


def postings(position: int, movement: dict[str, Any]) -> Iterator[Posting]:
    """The postings of one recorded movement (the state of a ``Movement.Recorded`` event)."""
    effects = EFFECTS[movement["action"]]
    assert len(effects) <= len(movement["lines"])
    day = date.fromisoformat(movement["request"]["effective_date"])
    for index, touched in enumerate(movement["lines"]):
        key = LineKey(**touched["line"])
        if index < len(effects):
            yield Posting(
                movement_id=movement["movement_id"],
                action=movement["action"],
                position=position,
                line=key,
                effective_date=day,
                changes={
                    name: unit * movement["amount_vnd"] for name, unit in effects[index].items()
                },
                amount_vnd=movement["amount_vnd"],
            )
        for other in touched.get("postings", ()):
            yield Posting(
                movement_id=movement["movement_id"],
                action=_action_of(other["changes"], movement["action"]),
                position=position,
                line=key,
                effective_date=date.fromisoformat(other["effective_date"]),
                changes=dict(other["changes"]),
                amount_vnd=other["amount_vnd"],
            )


# The figures a succession's postings change: a movement's other postings that change only
# these are its succession's part (what passed on growing or shrinking with it), read as such.
SUCCESSION_FIGURES = frozenset(["passed_on_vnd", "received_vnd", "assigned_vnd"])


def _action_of(changes: dict[str, int], action: str) -> str:
    """The action a movement's other posting is read as: ``succeed`` for what passed on at a
    succession (a late payment's second row, on the day its holder ended), else its own."""
    succession = set(changes) <= SUCCESSION_FIGURES and bool(
        {"passed_on_vnd", "received_vnd"} & set(changes)
    )
    return "succeed" if succession else action


@dataclass
class JournalLine:
    """A line's figures as the journal has them."""

    key: LineKey
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    extended_vnd: int = 0
    deadline: date | None = None
    available_by_day: dict[date, int] = field(default_factory=dict)

    @property
    def available_vnd(self) -> int:
        # Independent of ledger.values.available_vnd on purpose (see Posting above).
        f = self.figures
        return (
            f["assigned_vnd"]
            - f["allocated_on_vnd"]
            - f["disbursed_vnd"]
            - f["lapsed_vnd"]
            - f["passed_on_vnd"]
        )


def fold(movements: Iterable[tuple[int, dict[str, Any]]]) -> dict[LineKey, JournalLine]:
    lines: dict[LineKey, JournalLine] = {}
    for position, movement in movements:
        for posting in postings(position, movement):
            line = lines.setdefault(posting.line, JournalLine(posting.line))
            for name, change in posting.changes.items():
                line.figures[name] += change
            day = posting.effective_date
            line.available_by_day[day] = (
                line.available_by_day.get(day, 0) + posting.available_change_vnd
            )
            if movement["action"] == Extend.action:
                line.extended_vnd = movement["amount_vnd"]
                line.deadline = date.fromisoformat(movement["request"]["until"])
        for touched in movement["lines"]:
            extension = touched.get("extension")
            if extension is not None:
                line = lines.setdefault(
                    LineKey(**touched["line"]), JournalLine(LineKey(**touched["line"]))
                )
                line.extended_vnd = extension["extended_vnd"]
                line.deadline = date.fromisoformat(extension["until"])
    for line in lines.values():
        if line.deadline is None:
            line.deadline = line.key.base_deadline
    return lines
