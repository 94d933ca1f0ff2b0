"""Holders (đơn vị): the centre, provinces, districts, communes and agencies, in one tree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from eventsourcing.domain import Aggregate

from ledger.domain import limits
from ledger.domain.errors import InvalidInput, InvariantViolation, NotRelated
from ledger.domain.values import LEVELS, holder_id


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
