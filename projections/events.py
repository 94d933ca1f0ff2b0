"""The events the balances read model uses, decoded straight from their stored JSON.

Going through the library's mapper built a domain event object per event, with a Python hook
on every JSON object and a topic lookup: about a tenth of a rebuild (cProfile, 100,000
events). The read model needs a few fields of a few kinds of event, so it parses the JSON with
the plain C decoder and keeps those fields only. This relies on what the ledger configures:
the JSON transcoder with no cipher and no compressor (``check_mapper``), and event classes
with no upcasts (``tests/unit/test_projection_events.py`` fails when one gets a
``class_version``: its upcast must then be applied here too).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ledger.domain.errors import InvariantViolation

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

# The stored figures, in the order of an effect below.
FIGURES = (
    "assigned_vnd",
    "allocated_on_vnd",
    "disbursed_vnd",
    "lapsed_vnd",
    "passed_on_vnd",
    "received_vnd",
)
# The postings of a line and their effects are written out here, not derived from the
# line's event classes: a read the read models answer then does not load the domain's
# classes (about 45 ms of imports, decisions §28). tests/unit/test_projection_events.py
# checks this table against ``BudgetLine.postings()`` and each class's ``effect``.
EXTENDED = "budget_ledger:BudgetLine.Extended"
# Extended money that came in: its row's deadline is the line's after it (``deadline``), not
# the money's (``until``).
TAKEN = "budget_ledger:BudgetLine.ExtensionTaken"
# The postings that change a line's extension (its deadline and extended amount), none of
# its figures: read apart, each as the line's extension after it.
EXTENSIONS = frozenset([EXTENDED, "budget_ledger:BudgetLine.ExtensionGiven", TAKEN])
# How each posting changes the stored figures, per unit of its amount (each posting class's
# ``effect``).
EFFECTS: dict[str, tuple[int, ...]] = {
    "budget_ledger:BudgetLine.Adjusted": (1, 0, 0, 0, 0, 0),
    "budget_ledger:BudgetLine.Allocated": (0, 1, 0, 0, 0, 0),
    "budget_ledger:BudgetLine.AllocationReceived": (1, 0, 0, 0, 0, 0),
    "budget_ledger:BudgetLine.ReallocatedOut": (-1, 0, 0, 0, 0, 0),
    "budget_ledger:BudgetLine.ReallocatedIn": (1, 0, 0, 0, 0, 0),
    "budget_ledger:BudgetLine.Disbursed": (0, 0, 1, 0, 0, 0),
    "budget_ledger:BudgetLine.DisbursementReversed": (0, 0, -1, 0, 0, 0),
    "budget_ledger:BudgetLine.Lapsed": (0, 0, 0, 1, 0, 0),
    "budget_ledger:BudgetLine.PassedOn": (0, 0, 0, 0, 1, 0),
    "budget_ledger:BudgetLine.SuccessionReceived": (1, 0, 0, 0, 0, 1),
}
OPENED = "budget_ledger:BudgetLine.Opened"
REGISTERED = "budget_ledger:Holder.Registered"
# A holder's life: what the tree reads to place it on any day (see HolderChange).
HOLDER_CHANGES = {
    REGISTERED: "registered",
    "budget_ledger:Holder.Moved": "moved",
    "budget_ledger:Holder.Renamed": "renamed",
    "budget_ledger:Holder.Ended": "ended",
}
# A movement as recorded (who, under which reference, what it asked): the audit trail's rows.
RECORDED = "budget_ledger:Movement.Recorded"
TOPICS = frozenset([*EFFECTS, *EXTENSIONS, OPENED, *HOLDER_CHANGES, RECORDED])


class Posting(NamedTuple):
    """A posting or an extension of one line. ``until_day`` is 0 except for extensions, whose
    ``amount_vnd`` is the line's extended amount after them."""

    position: int
    topic: str
    line_id: str
    movement_id: str
    day: int  # the effective date's ordinal
    amount_vnd: int
    recorded_at: str  # clock text (see clock_text)
    until_day: int


class Opened(NamedTuple):
    position: int
    line_id: str
    program: str
    kind: str
    source: str
    year: int
    holder: str
    project: str | None


class HolderChange(NamedTuple):
    """One event of a holder's life: ``registered`` (``day``: its ``since``, 0 when it always
    existed; ``parent`` and ``name``), ``moved`` (``parent`` from ``day``), ``renamed``
    (``name`` from ``day``) or ``ended`` (at the start of ``day``; ``parent`` is the
    successor). A registration also gives the holder's level and who registered it."""

    position: int
    holder_id: str  # the aggregate's id (32 hex digits): only a registration names the code
    code: str  # "" but in a registration
    change: str
    day: int
    parent: str | None
    name: str | None
    recorded_at: str  # clock text
    level: str | None = None
    actor: str | None = None


class Recorded(NamedTuple):
    """A recorded movement: the state of its ``Movement.Recorded`` event as the domain has
    it (the request and lines are plain JSON already; ``timestamp`` a datetime)."""

    position: int
    movement: dict[str, Any]


Event = Posting | Opened | HolderChange | Recorded


def clock_text(moment: datetime) -> str:
    """A recorded time as fixed-width UTC text, so that text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def clock_text_of(stored: str) -> str:
    """``clock_text`` of a stored ISO timestamp. The library stores ``isoformat()``, which
    for UTC times is already that text, or that text without its microseconds when they are
    zero; strftime costs about 5 µs an event, so those two shapes are completed as text."""
    if stored.endswith("+00:00"):
        if len(stored) == 32:
            return stored
        if len(stored) == 25:
            return stored[:19] + ".000000+00:00"
    return clock_text(datetime.fromisoformat(stored))


def _day(stored: dict[str, str]) -> int:
    return date.fromisoformat(stored["_data_"]).toordinal()


def decode(position: int, originator_id: Any, topic: str, state: bytes) -> Event:
    """One stored event of a topic in TOPICS, as the read model needs it."""
    data = json.loads(state.decode())  # a str skips json's guess at the bytes' encoding
    if topic == RECORDED:
        data["timestamp"] = datetime.fromisoformat(data["timestamp"]["_data_"])
        return Recorded(position, data)
    if topic == OPENED:
        return Opened(
            position,
            str(originator_id),
            data["program"],
            data["kind"],
            data["source"],
            data["year"],
            data["holder"],
            data["project"],
        )
    change = HOLDER_CHANGES.get(topic)
    if change is not None:
        # The id as 32 hex digits, whichever way the store gives it (text or UUID).
        return _holder_change(position, str(originator_id).replace("-", ""), change, data)
    if topic not in EFFECTS and topic not in EXTENSIONS:
        raise InvariantViolation(f"the balances read model does not read {topic}")
    return Posting(
        position,
        topic,
        str(originator_id),
        data["movement_id"],
        _day(data["effective_date"]),
        data["extended_vnd"] if topic in EXTENSIONS and topic != EXTENDED else data["amount_vnd"],
        clock_text_of(data["timestamp"]["_data_"]),
        _day(data["deadline" if topic == TAKEN else "until"]) if topic in EXTENSIONS else 0,
    )


def _holder_change(position: int, holder: str, change: str, data: dict[str, Any]) -> HolderChange:
    recorded_at = clock_text_of(data["timestamp"]["_data_"])
    if change == "registered":
        # A Holder.Registered of version 1 has no ``since``: it always existed.
        since = data.get("since")
        day = _day(since) if since else 0
        return HolderChange(
            position,
            holder,
            data["code"],
            change,
            day,
            data["parent"],
            data["name"],
            recorded_at,
            data["level"],
            data["actor"],
        )
    # The other changes name their holder by its aggregate's id only (the writer knows the
    # code from the registration).
    day = _day(data["effective_date"])
    value = data.get("parent") if change == "moved" else data.get("successor")
    return HolderChange(position, holder, "", change, day, value, data.get("name"), recorded_at)


def check_mapper(mapper: Mapper[Any]) -> None:
    """``decode`` reads stored state as plain JSON: refuse a ledger that stores it otherwise."""
    if mapper.cipher is not None or mapper.compressor is not None:
        raise InvariantViolation(
            "the read models decode events as plain JSON; a cipher or compressor needs "
            "projections/events.py to decrypt and decompress first"
        )
