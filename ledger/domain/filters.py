"""What a read asks for: which lines, counted at which date, as known at which time. The CLI's
options and the API's query parameters are read here alike, by the rules of values.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.domain.values import (
    LINE_FIELDS,
    check_code,
    check_kind,
    check_program,
    check_project,
    check_source,
    check_year,
    parse_date,
    parse_moment,
    today_in_vietnam,
)

CHECKS: dict[str, Callable[[Any], Any]] = {
    "program": check_program,
    "kind": check_kind,
    "source": check_source,
    "year": check_year,
    "holder": lambda value: check_code(value, field="holder"),
    "project": check_project,
}
assert tuple(CHECKS) == LINE_FIELDS


def line_filters(given: Mapping[str, Any]) -> dict[str, Any]:
    """The line identity fields ``given`` names (absent or None: any), each checked."""
    return {name: CHECKS[name](given[name]) for name in LINE_FIELDS if given.get(name) is not None}


@dataclass(frozen=True)
class ReadFilters:
    """Lines matching ``lines`` (or, with ``subtree``, the holder's subtree rolled up), counting
    movements effective on or before ``as_of`` as recorded at or before ``known_at`` (None:
    everything recorded); a subtree as the tree stood on ``as_of``, or through today's tree
    with ``restated``."""

    lines: dict[str, Any]
    as_of: date
    known_at: datetime | None
    subtree: bool = False
    restated: bool = False


def read_filters(given: Mapping[str, Any]) -> ReadFilters:
    """The filters of a read from its options or query parameters: the line fields, ``as_of``
    (default: today in Vietnam), ``known_at``, ``subtree`` and ``restated``; text or values
    already read."""
    as_of, known_at = given.get("as_of"), given.get("known_at")
    return ReadFilters(
        lines=line_filters(given),
        as_of=parse_date(as_of, field="as_of") if as_of else today_in_vietnam(),
        known_at=parse_moment(known_at, field="known_at") if known_at else None,
        subtree=bool(given.get("subtree")),
        restated=bool(given.get("restated")),
    )
