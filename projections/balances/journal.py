"""The audit trail's rows: each recorded movement and each of its postings, as the history
read model stores them (``schema.tables``: ``movements``, ``entries`` and ``citations``).

The postings are derived by ``ledger.domain.journal.postings``, the same function the
journal-scanning ``history`` used, so the two cannot disagree on what a movement did to a
line; the read model only stores them with the keys a question looks them up by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ledger.domain.journal import postings
from ledger.domain.movements import REFERENCE_FIELDS
from ledger.domain.values import LineKey
from projections.events import Recorded


def line_text(key: LineKey) -> str:
    """A line's identity as one text (its lookup key in ``entries``): the project's part
    is empty for a holder's own line."""
    return f"{key.program}/{key.kind}/{key.source}/{key.year}/{key.holder}/{key.project or ''}"


def matching(text: str) -> str:
    """How actors and references are compared: case and surrounding spaces ignored."""
    return text.strip().casefold()


MOVEMENT_COLUMNS = (
    "position",
    "movement_id",
    "action",
    "actor",
    "actor_key",
    "recorded_at",
    "request",
)
ENTRY_COLUMNS = (
    "position",
    "seq",
    "line",
    "program",
    "kind",
    "source",
    "year",
    "holder",
    "project",
    "day",
    "debit",
    "action",
    "amount_vnd",
    "available_change_vnd",
    "changes",
    "recorded_at",
)
CITATION_COLUMNS = ("reference_key", "position")


@dataclass
class JournalRows:
    """The rows of a batch's recorded movements, in log order."""

    movements: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    citations: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, recorded: Recorded, recorded_at: str) -> None:
        """One movement's rows; ``recorded_at`` is its recording time as clock text."""
        position, movement = recorded
        request = movement["request"]
        self.movements.append(
            (
                position,
                movement["movement_id"],
                movement["action"],
                movement["actor"],
                matching(movement["actor"]),
                recorded_at,
                json.dumps(request, ensure_ascii=False, sort_keys=True),
            )
        )
        cited = {matching(request[name]) for name in REFERENCE_FIELDS if request.get(name)}
        self.citations.extend((reference, position) for reference in sorted(cited))
        for seq, posting in enumerate(postings(position, movement)):
            key = posting.line
            change = posting.available_change_vnd
            self.entries.append(
                (
                    position,
                    seq,
                    line_text(key),
                    key.program,
                    key.kind,
                    key.source,
                    key.year,
                    key.holder,
                    key.project,
                    posting.effective_date.toordinal(),
                    int(change < 0),
                    posting.action,
                    posting.amount_vnd,
                    change,
                    json.dumps(posting.changes, sort_keys=True),
                    recorded_at,
                )
            )
