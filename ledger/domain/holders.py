"""Holders (đơn vị): the centre, provinces, districts, communes and agencies, in one tree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import HolderEnded, InvalidInput, NotRelated
from ledger.domain.tree import ancestors as ancestors
from ledger.domain.tree import subtree_of as subtree_of
from ledger.domain.tree import up_edges as up_edges
from ledger.domain.values import LEVELS, holder_id


class Holder(Aggregate):
    """A holder and its life: registered (from ``since``, or always), moved under other
    parents and renamed from given dates, and ended at a succession (``ended_on``: the first
    day it no longer exists; ``successor``: who took its lines). Parents and names are kept
    as dated histories, so the tree and its names can be read as they stood on any day."""

    TOPIC = "budget_ledger:Holder"

    class Registered(Aggregate.Created):
        TOPIC = "budget_ledger:Holder.Registered"
        # 2: ``since`` (holders registered before it existed always existed).
        class_version = 2
        code: str
        name: str
        level: str
        parent: str | None
        actor: str
        since: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["since"] = None

    class Moved(Aggregate.Event):
        """From ``effective_date`` the holder sits under ``parent``."""

        TOPIC = "budget_ledger:Holder.Moved"
        effective_date: date
        parent: str
        decision: str
        actor: str

        def apply(self, holder: Holder) -> None:
            holder.placements = _dated(holder.placements, self.effective_date, self.parent)
            holder.parent = holder.placements[-1][1]

    class Renamed(Aggregate.Event):
        TOPIC = "budget_ledger:Holder.Renamed"
        effective_date: date
        name: str
        decision: str
        actor: str

        def apply(self, holder: Holder) -> None:
            holder.names = _dated(holder.names, self.effective_date, self.name)
            holder.name = holder.names[-1][1]

    class Ended(Aggregate.Event):
        """The holder ends at the start of ``effective_date``; ``successor`` takes its lines
        (the movement ``movement_id`` records what passed)."""

        TOPIC = "budget_ledger:Holder.Ended"
        effective_date: date
        successor: str
        decision: str
        movement_id: str

        def apply(self, holder: Holder) -> None:
            holder.ended_on = self.effective_date
            holder.successor = self.successor

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:Holder.Created"

    def __init__(
        self,
        code: str,
        name: str,
        level: str,
        parent: str | None,
        actor: str,
        since: date | None = None,
    ) -> None:
        self.code = code
        self.name = name
        self.level = level
        # The parent and name in force on the latest date of their histories; each history
        # is [[ISO date or "" (from the start), value], ...] in date order.
        self.parent = parent
        self.actor = actor
        self.since = since
        self.placements: list[list[Any]] = [[_start(since), parent]]
        self.names: list[list[Any]] = [[_start(since), name]]
        self.ended_on: date | None = None
        self.successor: str | None = None

    # -- As it stood on a day ----------------------------------------------------------------

    def parent_on(self, day: date) -> str | None:
        """Its own parent on ``day`` (an ended parent's successor is the tree's business:
        see ``up_edges``)."""
        parent = _value_on(self.placements, day)
        return None if parent is None else str(parent)

    def name_on(self, day: date) -> str:
        return str(_value_on(self.names, day))

    def begun_by(self, day: date) -> bool:
        return self.since is None or self.since <= day

    def ended_by(self, day: date) -> bool:
        return self.ended_on is not None and self.ended_on <= day

    def move(self, parent: Holder, day: date, *, decision: str, actor: str, at: datetime) -> None:
        check_placement(self.level, parent)
        self.require_exists(day, "moved")
        if parent.code == self.parent_on(day):
            raise InvalidInput(
                f"{self.code} already sits under {parent.code} on {day.isoformat()}",
                field="parent",
            )
        self.trigger_event(
            self.Moved,
            effective_date=day,
            parent=parent.code,
            decision=decision,
            actor=actor,
            timestamp=at,
        )

    def rename(self, name: str, day: date, *, decision: str, actor: str, at: datetime) -> None:
        self.require_exists(day, "renamed")
        if name == self.name_on(day):
            raise InvalidInput(
                f"{self.code} is already named {name!r} on {day.isoformat()}", field="name"
            )
        self.trigger_event(
            self.Renamed,
            effective_date=day,
            name=name,
            decision=decision,
            actor=actor,
            timestamp=at,
        )

    def end(
        self, day: date, successor: str, *, decision: str, movement_id: str, at: datetime
    ) -> None:
        self.require_exists(day, "ended")
        self.trigger_event(
            self.Ended,
            effective_date=day,
            successor=successor,
            decision=decision,
            movement_id=movement_id,
            timestamp=at,
        )

    def require_exists(self, day: date, what: str | None = None) -> None:
        """Refuse (HolderEnded) unless the holder exists on ``day``: begun by then and not
        ended. ``what``: a change of the holder itself ("moved", "ended"), which an ended
        holder no longer takes whatever the day; None: a movement on its lines effective
        ``day``, which its lines take until the day it ended."""
        if self.ended_on is not None and (what is not None or self.ended_on <= day):
            if what is None:
                refusal = (
                    f"its lines pass to {self.successor}: record this on "
                    f"{self.successor}'s line instead"
                )
            else:
                refusal = f"into {self.successor}; it cannot be {what}"
            raise HolderEnded(
                f"holder {self.code} ended on {self.ended_on.isoformat()}"
                f"{'; ' if what is None else ' '}{refusal}",
                field="effective_date",
                code=self.code,
                successor=self.successor,
            )
        if not self.begun_by(day):
            assert self.since is not None
            refusal = (
                "nothing is recorded on its lines before that"
                if what is None
                else f"it cannot be {what} on {day.isoformat()}"
            )
            raise HolderEnded(
                f"holder {self.code} exists from {self.since.isoformat()}; {refusal}",
                field="effective_date",
                code=self.code,
            )

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        level: str,
        parent: Holder | None,
        *,
        actor: str,
        recorded_at: datetime,
        since: date | None = None,
    ) -> Holder:
        check_placement(level, parent)
        return cls._create(
            cls.Registered,
            id=holder_id(code),
            code=code,
            name=name,
            level=level,
            parent=parent.code if parent else None,
            actor=actor,
            since=since,
            timestamp=recorded_at,
        )


def _start(since: date | None) -> str:
    return since.isoformat() if since is not None else ""


def _dated(history: list[list[Any]], day: date, value: Any) -> list[list[Any]]:
    """``history`` with ``value`` in force from ``day`` (replacing one from the same day)."""
    key = day.isoformat()
    kept = [entry for entry in history if entry[0] != key]
    return sorted([*kept, [key, value]], key=lambda entry: str(entry[0]))


def _value_on(history: list[list[Any]], day: date) -> Any:
    key = day.isoformat()
    found = history[0][1]
    for start, value in history:
        if start <= key:
            found = value
    return found


# The levels each level may sit under. Communes sit under districts, and under provinces
# directly since the district level was abolished on 1 July 2025. Agencies (investors,
# departments, program offices) may sit under any holder.
PARENT_LEVELS = {
    "central": (),
    "province": ("central",),
    "district": ("province",),
    "commune": ("district", "province"),
    "agency": LEVELS,
}


def check_depth(parent_chain: list[str]) -> None:
    """A new holder under the last of ``parent_chain`` (its parent, up to the root) keeps the
    tree within limits.HOLDER_DEPTH_MAX."""
    if len(parent_chain) >= limits.HOLDER_DEPTH_MAX:
        raise InvalidInput(
            f"{parent_chain[0]} is already {len(parent_chain)} holders deep; the tree holds at "
            f"most {limits.HOLDER_DEPTH_MAX}",
            field="parent",
        )


def check_placement(level: str, parent: Holder | None) -> None:
    """The centre is the root; every other holder sits under a holder of a level it may."""
    if level == "central":
        if parent is not None:
            raise InvalidInput(
                "the centre is the root of the tree and has no parent", field="parent"
            )
        return
    if parent is None:
        raise InvalidInput(f"a {level} holder needs a parent", field="parent", missing=True)
    allowed = PARENT_LEVELS[level]
    if parent.level not in allowed:
        raise NotRelated(
            f"a {level} cannot sit under {parent.code} ({parent.level}); its parent must be a "
            f"{' or a '.join(allowed)}",
            field="parent",
        )
