"""Importing a file of movements (treasury confirmations, allocation decisions): all rows
checked before anything is recorded, then recorded whole in one transaction, or not at all.

Two passes over the file, streaming, so memory grows with the number of lines touched, not
with the number of rows:
1. **check**: every row is parsed and checked as the ledger checks a movement (its shape, then
   the rules, against the lines as the rows before it left them); every bad row is reported
   with its row number and reason. Nothing is written.
2. **record** (only if no row is bad): the same rows are planned again and their events
   appended in batches inside one database transaction, which takes the log's write lock at
   its first batch; it commits at the end, or rolls back whole.

A row's movement id is its ``movement_id`` column or, when that is blank, derived from the
row's own content (and how many identical rows came before it in the file): importing the same
file again records nothing twice; a row already recorded with the same content is skipped, one
recorded with different content is a bad row.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.application import BudgetLedger, utc_now
from ledger.errors import InvalidInput, LedgerError
from ledger.lines import BudgetLine
from ledger.movements import MovementRequest
from ledger.values import LineKey, parse_amount, parse_date

COLUMNS = (
    "action", "movement_id", "effective_date", "program", "kind", "source", "year", "project",
    "holder", "to_holder", "amount_vnd", "decision", "voucher", "reverses", "reason", "until",
    "basis", "note",
)  # fmt: skip
REQUIRED_COLUMNS = ("effective_date",)
CHUNK_ROWS = 1000
ERRORS_MAX = 1000  # a file this wrong needs fixing at its source, not a longer report

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BadRow:
    row: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"row {self.row}: {where}{self.reason}"


@dataclass
class Outcome:
    rows: int = 0
    recorded: int = 0
    already: int = 0
    events: int = 0
    bad: list[BadRow] = field(default_factory=list)
    # The lines as the import left them (snapshotted after it commits).
    lines: list[BudgetLine] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as the spreadsheet shows it, cells by column) for every data row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_rows(path)
    elif suffix == ".xlsx":
        yield from _xlsx_rows(path)
    else:
        raise InvalidInput(f"{path.name}: give a .csv or .xlsx file", field="file")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = _header(next(reader, []))
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield number, dict(zip(header, (cell.strip() for cell in cells), strict=False))


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = _header([str(cell or "") for cell in next(rows, ())])
        for number, cells in enumerate(rows, start=2):
            values = [_cell_text(cell) for cell in cells]
            if any(values):
                yield number, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _header(cells: list[str]) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}",
            field="file",
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidInput(f"the header lacks {', '.join(missing)}", field="file")
    return header


def to_request(cells: dict[str, str], occurrence: dict[str, int]) -> MovementRequest:
    """One row as a movement, checked whole (raises InvalidInput naming the field)."""

    def text(name: str) -> str | None:
        return cells.get(name) or None

    action = (text("action") or "disburse").lower()
    holder, program = text("holder"), text("program")
    line = None
    if program is not None or holder is not None:
        line = LineKey.parse(
            program=program or "",
            kind=text("kind") or "",
            source=text("source") or "",
            year=text("year") or "",
            holder=holder or "",
            project=text("project"),
        )
    amount = text("amount_vnd")
    until = text("until")
    fields: dict[str, Any] = {
        "action": action,
        "effective_date": parse_date(text("effective_date") or "", field="effective_date"),
        "line": line,
        "counterpart": text("to_holder"),
        "amount_vnd": parse_amount(amount, signed=action == "adjust") if amount else None,
        "decision": text("decision"),
        "voucher": text("voucher"),
        "reason": text("reason"),
        "basis": text("basis"),
        "reverses": text("reverses"),
        "until": parse_date(until, field="until") if until else None,
        "note": text("note"),
    }
    movement_id = text("movement_id") or _derived_id(fields, occurrence)
    return MovementRequest(movement_id=movement_id, **fields)


def _derived_id(fields: dict[str, Any], occurrence: dict[str, int]) -> str:
    content = json.dumps(
        {k: (v.as_dict() if isinstance(v, LineKey) else v) for k, v in fields.items()},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:24]
    occurrence[digest] = occurrence.get(digest, 0) + 1
    return f"import-{digest}-{occurrence[digest]}"


class Importer:
    def __init__(self, ledger: BudgetLedger, actor: str) -> None:
        self.ledger = ledger
        self.actor = actor

    def check(self, path: Path, progress: Progress | None = None) -> Outcome:
        """Pass 1: every bad row, nothing written."""
        return self._run(path, progress, write=None)

    def record(self, path: Path, progress: Progress | None = None) -> Outcome:
        """Pass 2: record every row in one transaction; raises (nothing recorded) on any
        refusal, which means the books changed since the check."""
        recorder: Any = self.ledger.recorder
        with recorder.datastore.transaction(commit=True) as cursor:
            outcome = self._run(
                path,
                progress,
                write=lambda events: recorder.insert_in(
                    cursor, [self.ledger.mapper.to_stored_event(e) for e in events]
                ),
            )
            if outcome.bad:
                raise LedgerError(
                    f"{outcome.bad[0]} (the books changed since the file was checked); "
                    "nothing was recorded, import it again"
                )
        # A line changed by many rows would otherwise replay them all on its next read.
        self.ledger.snapshot(outcome.lines)
        return outcome

    def _run(
        self,
        path: Path,
        progress: Progress | None,
        write: Callable[[list[Any]], None] | None,
    ) -> Outcome:
        outcome = Outcome()
        occurrence: dict[str, int] = {}
        in_file: dict[str, str] = {}
        with self.ledger.working_set() as working:
            chunk: list[tuple[int, MovementRequest]] = []
            for number, cells in read_rows(path):
                outcome.rows += 1
                try:
                    chunk.append((number, to_request(cells, occurrence)))
                except LedgerError as error:
                    self._bad(outcome, number, error)
                if len(chunk) >= CHUNK_ROWS:
                    self._chunk(chunk, in_file, outcome, write)
                    chunk = []
                    if progress is not None:
                        progress(outcome.rows)
                if len(outcome.bad) >= ERRORS_MAX:
                    break
            self._chunk(chunk, in_file, outcome, write)
            outcome.lines = [a for a in working.values() if isinstance(a, BudgetLine)]
        if progress is not None:
            progress(outcome.rows)
        return outcome

    def _chunk(
        self,
        chunk: list[tuple[int, MovementRequest]],
        in_file: dict[str, str],
        outcome: Outcome,
        write: Callable[[list[Any]], None] | None,
    ) -> None:
        recorded = self.ledger.existing([request.aggregate_id for _, request in chunk])
        events: list[Any] = []
        for number, request in chunk:
            fingerprint = request.fingerprint()
            earlier = in_file.setdefault(request.movement_id, fingerprint)
            if earlier != fingerprint:
                outcome.bad.append(
                    BadRow(
                        number,
                        "movement_id",
                        f"{request.movement_id} is used twice in this file for different movements",
                    )
                )
                continue
            if request.aggregate_id in recorded:
                self._already(outcome, number, request)
                continue
            try:
                aggregates = self.ledger.plan(request, actor=self.actor, at=utc_now())
            except LedgerError as error:
                self._bad(outcome, number, error)
                continue
            recorded.add(request.aggregate_id)
            for aggregate in aggregates:
                events.extend(aggregate.collect_events())
            outcome.recorded += 1
        outcome.events += len(events)
        if write is not None and events and not outcome.bad:
            write(events)

    def _already(self, outcome: Outcome, number: int, request: MovementRequest) -> None:
        prior = self.ledger.get_movement(request.movement_id)
        if prior.fingerprint != request.fingerprint():
            outcome.bad.append(
                BadRow(
                    number,
                    "movement_id",
                    f"{request.movement_id} was already recorded for "
                    f"a different movement (differs in: {', '.join(prior.differences(request))})",
                )
            )
            return
        outcome.already += 1

    def _bad(self, outcome: Outcome, number: int, error: LedgerError) -> None:
        outcome.bad.append(BadRow(number, error.field, error.message))
