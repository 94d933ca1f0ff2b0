"""The one walk of the holder tree (ledger/domain/holders.py): up from a holder to the root, within
limits.HOLDER_DEPTH_MAX, and the subtree read from it."""

from __future__ import annotations

import pytest

from ledger.domain import limits
from ledger.domain.errors import InvalidInput, InvariantViolation
from ledger.domain.holders import ancestors, check_depth, subtree_of

PARENTS: dict[str, str | None] = {"TW": None, "49": "TW", "505": "49", "504": "49", "12": "TW"}


def chain_of(depth: int) -> dict[str, str | None]:
    """A line of ``depth`` holders: H1 the root, H2 under it, and so on."""
    return {f"H{n}": (f"H{n - 1}" if n > 1 else None) for n in range(1, depth + 1)}


def test_a_walk_goes_from_the_holder_up_to_the_root() -> None:
    assert ancestors("505", PARENTS.__getitem__) == ["505", "49", "TW"]
    assert ancestors("TW", PARENTS.__getitem__) == ["TW"]


def test_a_walk_reaches_the_root_of_the_deepest_tree_allowed() -> None:
    parents = chain_of(limits.HOLDER_DEPTH_MAX)
    walk = ancestors(f"H{limits.HOLDER_DEPTH_MAX}", parents.__getitem__)
    assert len(walk) == limits.HOLDER_DEPTH_MAX
    assert walk[-1] == "H1"


def test_a_walk_deeper_than_the_limit_is_a_broken_tree() -> None:
    parents = chain_of(limits.HOLDER_DEPTH_MAX + 1)
    with pytest.raises(InvariantViolation, match="cycle"):
        ancestors(f"H{limits.HOLDER_DEPTH_MAX + 1}", parents.__getitem__)


def test_a_cycle_is_a_broken_tree() -> None:
    parents: dict[str, str | None] = {"A": "B", "B": "A"}
    with pytest.raises(InvariantViolation, match="cycle"):
        ancestors("A", parents.__getitem__)


def test_a_missing_parent_is_a_broken_tree() -> None:
    parents: dict[str, str | None] = {"505": "49"}
    with pytest.raises(InvariantViolation, match="49 named as 505's parent is not in the tree"):
        ancestors("505", parents.__getitem__)


def test_a_subtree_holds_the_root_and_everyone_below_it() -> None:
    assert subtree_of(PARENTS.items(), "49") == {"49", "505", "504"}
    assert subtree_of(PARENTS.items(), "TW") == set(PARENTS)
    assert subtree_of(PARENTS.items(), "505") == {"505"}


def test_a_subtree_of_the_deepest_tree_allowed_is_whole_and_a_cycle_in_it_is_broken() -> None:
    parents = chain_of(limits.HOLDER_DEPTH_MAX)
    assert subtree_of(parents.items(), "H1") == set(parents)
    with pytest.raises(InvariantViolation, match="cycle"):
        subtree_of({"A": "B", "B": "A", "TW": None}.items(), "A")


def test_a_new_holder_may_not_go_below_the_depth_limit() -> None:
    check_depth(["H1"] * (limits.HOLDER_DEPTH_MAX - 1))
    with pytest.raises(InvalidInput, match=f"at most {limits.HOLDER_DEPTH_MAX}") as refused:
        check_depth(["H1"] * limits.HOLDER_DEPTH_MAX)
    assert refused.value.field == "parent"
