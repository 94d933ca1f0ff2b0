"""Holders (đơn vị): the centre, provinces, districts, communes and agencies, in one tree."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from eventsourcing.domain import Aggregate

from ledger.errors import InvalidInput, NotRelated
from ledger.values import LEVELS, holder_id


class Holder(Aggregate):
    TOPIC = "budget_ledger:Holder"

    class Registered(Aggregate.Created):
        TOPIC = "budget_ledger:Holder.Registered"
        code: str
        name: str
        level: str
        parent: str | None
        actor: str

    class Created(Aggregate.Created):
        """The library's default creation event; never used here, but every event class
        of an aggregate with an explicit topic must have one."""

        TOPIC = "budget_ledger:Holder.Created"

    def __init__(self, code: str, name: str, level: str, parent: str | None, actor: str) -> None:
        self.code = code
        self.name = name
        self.level = level
        self.parent = parent
        self.actor = actor

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
            timestamp=recorded_at,
        )


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


def subtree_of(pairs: Iterable[tuple[str, str | None]], root: str) -> set[str]:
    """The codes of ``root`` and every holder below it, from (code, parent) pairs."""
    children: dict[str | None, list[str]] = {}
    for code, parent in pairs:
        children.setdefault(parent, []).append(code)
    found, frontier = {root}, [root]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def check_placement(level: str, parent: Holder | None) -> None:
    """The centre is the root; every other holder sits under a holder of a level it may."""
    if level == "central":
        if parent is not None:
            raise InvalidInput(
                "the centre is the root of the tree and has no parent", field="parent"
            )
        return
    if parent is None:
        raise InvalidInput(f"a {level} holder needs a parent (--parent CODE)", field="parent")
    allowed = PARENT_LEVELS[level]
    if parent.level not in allowed:
        raise NotRelated(
            f"a {level} cannot sit under {parent.code} ({parent.level}); its parent must be a "
            f"{' or a '.join(allowed)}",
            field="parent",
        )
