"""The ledger's own export of movements (``export --what movements``, CSV or xlsx, with the
Vietnamese headers of ``export.MOVEMENT_COLUMNS``) read back as movements.

An export has one row per movement and line touched (two for an allocation or a
reallocation: the giver's and the receiver's), sorted by effective date. Rows are grouped by
movement id within each effective date (every row of a movement carries its date, but for
the rows a movement recorded late adds on the day a holder ended, which belong to the
movement of an earlier row), and a day's movements are taken in the order they were
recorded (``Thời điểm ghi sổ``), as the ledger first checked them.

- A movement already recorded here is recognised by its id, its kind and the lines its rows
  name: the file imported back into the ledger it came from records nothing.
- A movement not recorded here is rebuilt from its rows: its kind from its Vietnamese label,
  its line and counterpart from the rows (the giver is the row whose available amount fell),
  its citation from ``Số quyết định / chứng từ``, its amount as resolved. Imported into a
  ledger with the same holders and programs, a whole export gives the same balances.
  A succession is not rebuilt (it is recorded from its decision), nor is a movement whose
  rows the file does not hold whole (an export of one holder's lines lacks the other side
  of an allocation): those rows are bad rows, and nothing is recorded.

The choice and its limits: docs/decisions.md §21.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.domain.errors import InvalidInput
from ledger.domain.movements import RECORDED_KINDS, Movement, MovementRequest, Succeed
from ledger.domain.values import VIETNAM_TIME, LineKey, parse_date, parse_moment, read_amount
from ledger.interchange.export import MOVEMENT_COLUMNS

# The export's headers, as read (NFC, case-folded), to its column names.
HEADERS = {
    unicodedata.normalize("NFC", header).casefold(): name for name, header in MOVEMENT_COLUMNS
}
# The columns a movement is rebuilt or recognised from.
REQUIRED = ("effective_date", "recorded_at", "movement_id", "action", "program", "kind",
            "source", "year", "holder", "amount_vnd", "available_change_vnd")  # fmt: skip
# A column only the export has: a file with it is read as an export.
MARK = "available_change_vnd"
LAST = datetime.max.replace(tzinfo=VIETNAM_TIME)
KIND_BY_LABEL = {kind.label.casefold(): kind for kind in RECORDED_KINDS.values()}


def header_name(cell: str) -> str | None:
    """The export's column a header cell names, or None."""
    return HEADERS.get(unicodedata.normalize("NFC", cell).strip().casefold())


def required_headers() -> list[str]:
    return [header for name, header in MOVEMENT_COLUMNS if name in REQUIRED]


@dataclass
class Exported:
    """One movement as the file shows it: its id and its rows (number, cells) of one day."""

    movement_id: str
    rows: list[tuple[int, dict[str, str]]]

    @property
    def number(self) -> int:
        """The row it is reported at: its first."""
        return self.rows[0][0]

    def kind(self) -> type[MovementRequest]:
        label = self.rows[0][1].get("action", "")
        kind = KIND_BY_LABEL.get(label.strip().casefold())
        if kind is None:
            known = ", ".join(sorted(KIND_BY_LABEL))
            raise InvalidInput(
                f"unknown movement {label!r}; the export's are {known}", field="action"
            )
        return kind

    def lines(self) -> list[LineKey]:
        return [_line(cells) for _, cells in self.rows]


def movements(rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[Exported]:
    """The file's movements, day by day (a day: consecutive rows of one effective date), each
    day's in the order recorded, then in the file's order."""
    day: list[tuple[int, dict[str, str]]] = []
    for number, cells in rows:
        if day and cells.get("effective_date") != day[0][1].get("effective_date"):
            yield from _of_day(day)
            day = []
        day.append((number, cells))
    yield from _of_day(day)


def _of_day(rows: list[tuple[int, dict[str, str]]]) -> Iterator[Exported]:
    grouped: dict[str, Exported] = {}
    for number, cells in rows:
        movement_id = cells.get("movement_id", "")
        grouped.setdefault(movement_id, Exported(movement_id, [])).rows.append((number, cells))
    yield from sorted(
        grouped.values(), key=lambda m: (min(_recorded(c) for _, c in m.rows), m.number)
    )


def _recorded(cells: dict[str, str]) -> datetime:
    """When a row's movement was recorded, as the export wrote it or as a spreadsheet saved
    it again (``01/12/2026 08:00``); a time that cannot be read sorts last (the order only
    matters between movements of one day that need each other)."""
    try:
        return parse_moment(cells.get("recorded_at", ""), field="recorded_at")
    except InvalidInput:
        return LAST


def matches(recorded: Movement, exported: Exported) -> bool:
    """Whether the movement recorded under the id is the one the rows show: the same kind,
    touching the lines the rows name."""
    touched = {LineKey(**line["line"]) for line in recorded.lines}
    return recorded.action == exported.kind().action and set(exported.lines()) <= touched


def request(exported: Exported) -> MovementRequest:
    """The movement the rows show, rebuilt (InvalidInput naming the field when it cannot be)."""
    kind = exported.kind()
    if kind is Succeed:
        raise InvalidInput(
            f"{exported.movement_id} is a succession, recorded from its decision, not from an "
            "export; record it in this ledger, then import the file again",
            field="action",
        )
    names = kind.field_names()
    two_sided = "counterpart" in names
    if len(exported.rows) != (2 if two_sided else 1):
        raise InvalidInput(
            f"movement {exported.movement_id} ({kind.label}) has {len(exported.rows)} row(s) on "
            f"this day, where it has {2 if two_sided else 1}: import an export of every "
            "holder's lines, as exported",
            field="movement_id",
        )
    rows = sorted((cells for _, cells in exported.rows), key=_change)
    cells = rows[0]  # the giver's, whose available amount fell, on a two-sided movement
    given: dict[str, Any] = {
        "movement_id": exported.movement_id,
        "effective_date": parse_date(cells.get("effective_date", ""), field="effective_date"),
        "note": cells.get("note") or None,
    }
    if "line" in names:
        given["line"] = _line(cells)
    if two_sided:
        given["counterpart"] = rows[1].get("holder")
    if "amount_vnd" in names and cells.get("amount_vnd"):
        given["amount_vnd"] = read_amount(cells["amount_vnd"])
    if kind.reference is not None:
        given[kind.reference] = cells.get("reference") or None
    if "reverses" in names:
        given["reverses"] = cells.get("reverses") or None
    if "until" in names and cells.get("until"):
        given["until"] = parse_date(cells["until"], field="until")
    return kind.from_fields(**given)


def _change(cells: dict[str, str]) -> int:
    return read_amount(cells.get("available_change_vnd") or "0", field="available_change_vnd")


def _line(cells: dict[str, str]) -> LineKey:
    return LineKey.parse(
        program=cells.get("program", ""),
        kind=cells.get("kind", ""),
        source=cells.get("source", ""),
        year=cells.get("year", ""),
        holder=cells.get("holder", ""),
        project=cells.get("project") or None,
    )
