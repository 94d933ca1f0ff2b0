"""Holders (đơn vị): the centre, provinces, districts, communes and agencies, in one tree."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import HolderEnded, InvalidInput, InvariantViolation, NotRelated
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


class Life(Protocol):
    """What the tree needs of a holder to place it on a day (``Holder``, ``HolderInfo``)."""

    code: str
    successor: str | None

    def parent_on(self, day: date) -> str | None: ...

    def begun_by(self, day: date) -> bool: ...

    def ended_by(self, day: date) -> bool: ...


def up_edges(holders: Mapping[str, Life], day: date) -> dict[str, str | None]:
    """The tree as it stood on ``day``, through successions: each holder that had begun by
    then, with the holder above it. A holder ended by ``day`` sits under its successor (its
    figures count there: the successor holds its lines from then on), and a holder whose
    parent had ended sits under that parent's successor (and so on, successions chain). A
    holder's subtree on ``day`` (``subtree_of`` over these pairs) is then what it holds with
    everything that passed to it."""

    def alive(code: str | None) -> str | None:
        for _ in range(limits.HOLDER_DEPTH_MAX * 4):
            if code is None:
                return None
            holder = holders[code]
            if not holder.ended_by(day) or holder.successor is None:
                return code
            code = holder.successor
        raise InvariantViolation(f"the successions from {code} form a cycle")

    edges: dict[str, str | None] = {}
    for code, holder in holders.items():
        if not holder.begun_by(day):
            continue
        if holder.ended_by(day):
            edges[code] = alive(holder.successor)
        else:
            edges[code] = alive(holder.parent_on(day))
    return edges


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


def ancestors(code: str, parent_of: Callable[[str], str | None]) -> list[str]:
    """``code``, its parent, its parent's parent and so on up to the root: the one walk up
    the holder tree (``subtree_of`` is the one walk down). ``parent_of`` gives a holder's
    parent (None for the root) and raises KeyError for a code it does not know. A walk
    longer than limits.HOLDER_DEPTH_MAX (a cycle) or through a parent that is not there is a
    broken tree: InvariantViolation."""
    chain = [code]
    while True:
        try:
            parent = parent_of(chain[-1])
        except KeyError:
            named = f"named as {chain[-2]}'s parent " if len(chain) > 1 else ""
            raise InvariantViolation(f"holder {chain[-1]} {named}is not in the tree") from None
        if parent is None:
            return chain
        if len(chain) == limits.HOLDER_DEPTH_MAX:
            raise InvariantViolation(
                f"holder {code} lies more than {limits.HOLDER_DEPTH_MAX} holders deep: "
                "its parents form a cycle"
            )
        chain.append(parent)


def subtree_of(pairs: Iterable[tuple[str, str | None]], root: str) -> set[str]:
    """The codes of ``root`` and every holder below it, from (code, parent) pairs: the same
    tree walked down, level by level, within the same limit and failing the same way. (Asking
    ``ancestors`` of every holder gives the same set at ten times the cost: 48 ms against
    4.5 ms for 10,000 holders, and a scoped token's every read asks it.)"""
    children: dict[str | None, list[str]] = {}
    for code, parent in pairs:
        children.setdefault(parent, []).append(code)
    found, level = {root}, [root]
    for _ in range(limits.HOLDER_DEPTH_MAX):
        level = [child for code in level for child in children.get(code, ())]
        if not level:
            return found
        found.update(level)
    raise InvariantViolation(
        f"the tree below {root} goes more than {limits.HOLDER_DEPTH_MAX} holders deep: "
        "its parents form a cycle"
    )


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
