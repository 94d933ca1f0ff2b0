"""Importing a file of movements (treasury confirmations, allocation decisions): every row
checked, then the file recorded whole in one transaction, or not at all.

One pass over the file, streaming, inside one transaction that takes the log's write lock
before it reads anything:
- every row is parsed and checked as the ledger checks a movement (its shape, then the rules,
  against the lines as the rows before it left them), and its events are appended in batches;
- at the first bad row the transaction rolls back (nothing written is kept, the lock is let
  go) and the rest of the file is only checked, so that every bad row is reported with its row
  number and reason; a file with a bad row records nothing;
- otherwise the transaction commits at the end, and the lines touched are snapshotted.
Memory holds the lines touched and one chunk of rows, plus each row's movement id and
fingerprint (to find a movement given twice in the file).

A row's movement id is its ``movement_id`` column or, when that is blank, derived from the
row's own content (and how many identical rows came before it in the file): importing the same
file again records nothing twice; a row already recorded with the same content is skipped, one
recorded with different content is a bad row.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.application import Batch, BudgetLedger, check_actor
from ledger.domain import limits
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.lines import BudgetLine
from ledger.domain.movements import (
    ALL_FIELDS,
    CANONICAL_FIELDS,
    KINDS,
    Disburse,
    Movement,
    MovementRequest,
    movement,
)
from ledger.domain.values import (
    LineKey,
    holder_id,
    movement_aggregate_id,
    parse_amount,
    parse_date,
    parse_whole,
)
from ledger.interchange import exported, import_files

# The fields of a kind that came after the first seven (CANONICAL_FIELDS): a column each.
LATER_FIELDS = tuple(name for name in ALL_FIELDS if name not in CANONICAL_FIELDS)
COLUMNS = (
    "action", "movement_id", "effective_date", "program", "kind", "source", "year", "project",
    "holder", "to_holder", "amount_vnd", "decision", "voucher", "reverses", "reason", "until",
    "basis", "note", *LATER_FIELDS,
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
    events: int = 0  # events recorded (0 unless the file was recorded)
    written: int = 0  # events sent to the store in the transaction, kept or rolled back
    bad: list[BadRow] = field(default_factory=list)


def read_rows(path: Path, sheet: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as the spreadsheet shows it, cells by column) for every data row; of an
    xlsx, those of ``sheet`` (default: the first). The file is checked first, whole (its
    encoding, or an xlsx's bounds: import_files.py), so a file that cannot be read is
    refused before a row is."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if sheet is not None:
            raise InvalidInput(
                f"{path.name}: --sheet names a sheet of an .xlsx file", field="sheet"
            )
        return import_files.csv_records(path, _header)
    if suffix == ".xlsx":
        import_files.check_xlsx(path)
        return _xlsx_rows(path, sheet)
    raise InvalidInput(f"{path.name}: give a .csv or .xlsx file", field="file")


def _xlsx_rows(path: Path, sheet_name: str | None) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    number = 0  # the last row read; 0 until the header is
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            if sheet_name is None:
                sheet = workbook.worksheets[0]
            elif sheet_name in workbook.sheetnames:
                sheet = workbook[sheet_name]
            else:
                raise InvalidInput(
                    f"{path.name} has no sheet {sheet_name!r}; its sheets are "
                    + ", ".join(repr(name) for name in workbook.sheetnames),
                    field="sheet",
                )
            # Rows as the file holds them, not padded to the size the sheet declares.
            sheet.reset_dimensions()
            # Closed whatever happens: the sheet's reader holds the file open past the
            # workbook's close (a header refused would leave it open).
            with closing(sheet.iter_rows(values_only=True)) as rows:
                header = _header([str(cell or "") for cell in next(rows, ())])
                timed = {index for index, name in enumerate(header) if name == "recorded_at"}
                number = 1
                for number, cells in enumerate(rows, start=2):
                    values = [
                        _cell_text(cell, keep_time=index in timed)
                        for index, cell in enumerate(cells)
                    ]
                    if any(values):
                        yield number, dict(zip(header, values, strict=False))
        finally:
            workbook.close()
    except _XLSX_ERRORS as error:
        # openpyxl's word for a part it cannot understand (a missing part, a cell that is not
        # what its type says): the file is not what Excel writes.
        problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        where = f"row {number + 1}: " if number else ""
        raise InvalidInput(
            f"{path.name}: is not a readable .xlsx file ({where}{problem}); save it "
            "again from Excel, or as CSV UTF-8, and import it again",
            field="file",
        ) from None


_XLSX_ERRORS = (
    KeyError, ValueError, TypeError, AttributeError, IndexError, OSError, zipfile.BadZipFile,
)  # fmt: skip


def _cell_text(cell: Any, *, keep_time: bool = False) -> str:
    """A cell as text; a date-time cell as its date, but where the time is the point (the
    export's recorded time, which orders a day's movements)."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat() if keep_time else cell.date().isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _header(cells: list[str]) -> list[str]:
    """The columns the header names: the import's own names, or the headers of the ledger's
    export of movements (ledger/interchange/exported.py), mapped to that export's names."""
    if any(exported.header_name(cell) for cell in cells):
        return _exported_header(cells)
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


# An office's own file in the export's Vietnamese words may name columns the export has not
# (it shows an allocation as two rows; an office writes one, with the receiver).
OFFICE_HEADERS = {"đơn vị nhận": "to_holder", "lý do": "reason", "căn cứ": "basis"}


def _office_name(cell: str) -> str | None:
    return OFFICE_HEADERS.get(unicodedata.normalize("NFC", cell).strip().casefold())


def _exported_header(cells: list[str]) -> list[str]:
    """The columns of a file with the export's Vietnamese headers: the ledger's own export
    (it has the export's own columns, ``exported.MARK``), read as movements; or an office's
    own list of movements in the same words (a date, the movement, its line and amount, the
    decision or voucher), read row by row as any import file."""
    names = [exported.header_name(cell) or _office_name(cell) or "" for cell in cells]
    unknown = [
        cell.strip() for cell, name in zip(cells, names, strict=True) if cell.strip() and not name
    ]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) {', '.join(unknown)} beside the headers of the ledger's export "
            "of movements; keep the export's columns as written",
            field="file",
        )
    if exported.MARK not in names:
        if "effective_date" not in names:
            raise InvalidInput("the header lacks Ngày hiệu lực (the movement's date)", field="file")
        return names
    missing = [
        header
        for header in exported.required_headers()
        if exported.header_name(header) not in names
    ]
    if missing:
        raise InvalidInput(
            f"the header lacks {', '.join(missing)} (a movement is read from them)", field="file"
        )
    return names


def to_request(cells: dict[str, str], occurrence: Callable[[str], int]) -> MovementRequest:
    """One row as a movement, checked whole (raises InvalidInput naming the field).
    ``occurrence(digest)`` counts the rows with this content so far, this one included."""

    def text(name: str) -> str | None:
        return cells.get(name) or None

    action = (text("action") or Disburse.action).lower()
    labelled = exported.KIND_BY_LABEL.get(action.casefold())
    if action not in KINDS and labelled is not None:  # "Giải ngân", as offices name it
        action = labelled.action
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
        "amount_vnd": parse_amount(amount, signed=_signed(action)) if amount else None,
        "decision": text("decision"),
        "voucher": text("voucher"),
        "reason": text("reason"),
        "basis": text("basis"),
        "reverses": text("reverses"),
        "until": parse_date(until, field="until") if until else None,
        "note": text("note"),
    }
    # Only when given: a row's derived id hashes ``fields``, and a file imported again must
    # derive the ids it derived before these columns existed.
    fields |= {name: _later(action, name, text(name)) for name in LATER_FIELDS if text(name)}
    # The export's one column "Số quyết định / chứng từ" is the decision or the voucher, as
    # the movement cites.
    reference, kind = text("reference"), KINDS.get(action)
    if reference and kind is not None and kind.reference and not fields.get(kind.reference):
        fields[kind.reference] = reference
    movement_id = text("movement_id") or _derived_id(fields, occurrence)
    return movement(movement_id=movement_id, **fields)


def _later(action: str, name: str, value: str | None) -> Any:
    """A later kind's field from its cell, read as that kind takes it (text if no kind does)."""
    kind = KINDS.get(action)
    value_type = kind.value_type(name) if kind and name in kind.field_names() else str
    if value_type is int:
        return parse_whole(value or "", field=name, example="a whole number")
    if value_type is date:
        return parse_date(value or "", field=name)
    return value


def _signed(action: str) -> bool:
    """Whether the amount of a row of this action may be negative (an unknown action is
    refused once the row is read whole)."""
    kind = KINDS.get(action)
    return kind is not None and kind.signed_amount


# json.dumps(sort_keys=True, default=str, ensure_ascii=False), made once (json.dumps builds
# an encoder on every call given arguments): the same bytes, so the same derived ids.
_CONTENT_JSON = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)


def _derived_id(fields: dict[str, Any], occurrence: Callable[[str], int]) -> str:
    content = _CONTENT_JSON.encode(
        {k: (v.as_dict() if isinstance(v, LineKey) else v) for k, v in fields.items()}
    )
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:24]
    return f"import-{digest}-{occurrence(digest)}"


class SeenRows:
    """What an import remembers of every row before the current one, kept in a private
    temporary SQLite database (on disk once it outgrows SQLite's page cache of a few MB), so
    that memory does not grow with the file: how many rows with the same content came before
    (for derived ids), and the fingerprint first given under each movement id.

    What a chunk adds is written once per chunk (``flush``), many rows a statement: a write
    a row cost more than the rest of what the import remembers. Until then the chunk's own
    counts are held here, in ``counted``. A content or a movement id is looked for in the
    database only if its bit (``Bits``) is set: nearly every row's are new, and need no
    query."""

    def __init__(self) -> None:
        self.database = sqlite3.connect("")  # "": a temporary database, deleted on close
        self.database.execute(
            "CREATE TABLE contents (digest TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID"
        )
        self.database.execute(
            "CREATE TABLE movements (movement_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)"
            " WITHOUT ROWID"
        )
        self.counted: dict[str, int] = {}
        self.contents_seen = Bits()
        self.movements_seen = Bits()

    def count(self, digest: str) -> int:
        """The rows with this content so far, the one given now included."""
        rows = self.counted.get(digest)
        if rows is None:
            rows = 0
            if self.contents_seen.maybe(digest):
                row = self.database.execute(
                    "SELECT rows FROM contents WHERE digest = ?", (digest,)
                ).fetchone()
                rows = int(row[0]) if row else 0
        self.counted[digest] = rows = rows + 1
        return rows

    def flush(self) -> None:
        """Write the counts ``count`` holds (once a chunk)."""
        self.database.executemany(
            "INSERT INTO contents VALUES (?, ?) ON CONFLICT (digest) DO UPDATE"
            " SET rows = excluded.rows",
            self.counted.items(),
        )
        self.counted.clear()

    def first_fingerprint(self, movement_id: str, fingerprint: str) -> str | None:
        """The fingerprint an earlier row gave this movement id (None if none did); the
        first one given is kept."""
        return self.first_fingerprints([(movement_id, fingerprint)])[0]

    def first_fingerprints(self, given: list[tuple[str, str]]) -> list[str | None]:
        """``first_fingerprint`` for each of these (movement id, fingerprint) in turn, a
        chunk's, in one query and one write."""
        ids = [i for i in {movement_id for movement_id, _ in given} if self.movements_seen.maybe(i)]
        first: dict[str, str] = {}
        for at in range(0, len(ids), SQLITE_PARAMETERS_MAX):
            some = ids[at : at + SQLITE_PARAMETERS_MAX]
            first.update(
                self.database.execute(
                    "SELECT movement_id, fingerprint FROM movements WHERE movement_id IN ("
                    + ",".join("?" * len(some))
                    + ")",
                    some,
                ).fetchall()
            )
        found: list[str | None] = []
        new: list[tuple[str, str]] = []
        for movement_id, fingerprint in given:
            earlier = first.get(movement_id)
            found.append(earlier)
            if earlier is None:
                first[movement_id] = fingerprint
                new.append((movement_id, fingerprint))
        self.database.executemany("INSERT INTO movements VALUES (?, ?)", new)
        return found

    def close(self) -> None:
        self.database.close()


class Bits:
    """Which keys may have been given before: a bit a key, by its hash (2 MB, whatever the
    file's length). A clear bit means never given; a set bit, given, or another key with the
    same bit was (1 in 17 after a million keys), and then only costs a query."""

    def __init__(self) -> None:
        self.bits = bytearray(SEEN_BITS // 8)

    def maybe(self, key: str) -> bool:
        """Whether ``key`` may have been given before; from now on, it has."""
        bit = hash(key) & (SEEN_BITS - 1)
        byte, mask = bit >> 3, 1 << (bit & 7)
        if self.bits[byte] & mask:
            return True
        self.bits[byte] |= mask
        return False


SEEN_BITS = 1 << 24
SQLITE_PARAMETERS_MAX = 999  # what any SQLite takes in one statement (32,766 since 3.32)


# A row of the file: a movement read from the import's columns, or one the ledger's export
# shows (its rows).
Item = MovementRequest | exported.Exported
EXPORTED = "exported"  # what SeenRows keeps for an exported movement's id


def _lines(movement: Movement) -> list[LineKey]:
    return [LineKey(**line["line"]) for line in movement.lines]


class _Refused(Exception):
    """A bad row ends the writing: the transaction rolls back, the checking goes on."""


class _DryRun(Exception):
    """A dry run, written and checked whole, ends: the transaction rolls back."""


class Importer:
    def __init__(self, ledger: BudgetLedger, actor: str) -> None:
        self.ledger = ledger
        self.actor = check_actor(actor)

    def run(
        self,
        path: Path,
        progress: Progress | None = None,
        *,
        sheet: str | None = None,
        dry_run: bool = False,
    ) -> Outcome:
        """Check every row and record the file whole, in one pass and one transaction; or,
        at the first bad row, roll back whatever was written and go on checking only, so
        that every bad row is reported and nothing is recorded. ``dry_run``: the whole file
        is written and checked so, then rolled back; the outcome says what would have been
        recorded."""
        outcome = Outcome()
        changed: set[UUID] = set()  # the lines (and reversed payments) the rows changed
        recorder: Any = self.ledger.recorder
        rows = read_rows(path, sheet)  # a file that cannot be read is refused before the lock
        first = next(rows, None)  # the header read, and the first row
        is_export = first is not None and exported.MARK in first[1]
        batch = self.ledger.batch()
        if is_export:
            # A ledger's history reverses its own payments: keep the file's newest in hand.
            batch.payments_held_max = limits.IMPORT_PAYMENTS_HELD_MAX
        working = batch.aggregates
        with closing(SeenRows()) as seen:
            rows = itertools.chain([first] if first is not None else [], rows)
            chunks = self._chunks(rows, is_export, seen, outcome, progress)
            try:
                with recorder.datastore.transaction(commit=True) as cursor:
                    # The lock first: every line is then read as it stands, and nobody
                    # changes it before this transaction ends.
                    recorder.lock_in(cursor)
                    # Each chunk's events are sent while the next chunk is planned.
                    with recorder.appending(cursor) as append:
                        for chunk in chunks:
                            events = self._chunk(chunk, batch, seen, outcome)
                            if outcome.bad:
                                raise _Refused
                            if events:
                                append(self.ledger.to_stored_events(events))
                                outcome.written += len(events)
                                changed.update(
                                    e.originator_id for e in events if e.originator_id in working
                                )
                    if dry_run:
                        raise _DryRun  # rolls back, on the writer's own connection
            except _DryRun:
                changed.clear()  # nothing to snapshot: nothing was kept
            except _Refused:
                pass
            for chunk in chunks:
                self._chunk(chunk, batch, seen, outcome)
            lines = [line for i in changed if isinstance(line := working.get(i), BudgetLine)]
        # In the file's order: an export's rows are checked by movement, a day at a time.
        outcome.bad.sort(key=lambda bad: bad.row)
        if not outcome.bad:
            outcome.events = outcome.written
            # A line changed by many rows would otherwise replay them all on its next read.
            self.ledger.snapshot(lines)
        return outcome

    def _chunks(
        self,
        rows: Iterator[tuple[int, dict[str, str]]],
        is_export: bool,
        seen: SeenRows,
        outcome: Outcome,
        progress: Progress | None,
    ) -> Iterator[list[tuple[int, Item]]]:
        """The file's well-formed rows, CHUNK_ROWS at a time; a malformed one is a bad row.
        The rows of the ledger's own export come as the movements they show (``Exported``)."""
        chunk: list[tuple[int, Item]] = []
        items: Iterator[tuple[int, dict[str, str]] | exported.Exported] = (
            exported.movements(rows) if is_export else rows
        )
        for item in items:
            if isinstance(item, exported.Exported):
                outcome.rows += len(item.rows)
                chunk.append((item.number, item))
            else:
                number, cells = item
                outcome.rows += 1
                try:
                    chunk.append((number, to_request(cells, seen.count)))
                except LedgerError as error:
                    self._bad(outcome, number, error)
            if len(outcome.bad) >= ERRORS_MAX:
                break
            if len(chunk) >= CHUNK_ROWS:
                seen.flush()
                yield chunk
                chunk = []
                if progress is not None:
                    progress(outcome.rows)
        seen.flush()
        yield chunk
        if progress is not None:
            progress(outcome.rows)

    def _chunk(
        self,
        given: list[tuple[int, Item]],
        batch: Batch,
        seen: SeenRows,
        outcome: Outcome,
    ) -> list[Any]:
        """Check and plan a chunk's rows against the working lines; their events, in order."""
        recorded = self.ledger.recorded_movements(
            [
                item.aggregate_id
                if isinstance(item, MovementRequest)
                else movement_aggregate_id(item.movement_id)
                for _, item in given
            ]
        )
        chunk = self._rebuilt(given, recorded, seen, outcome)
        # The lines the rows name and their holders (each row checks its holders are alive),
        # those not held yet, in two queries, not one read each.
        batch.load(
            [
                aggregate_id
                for _, request in chunk
                for key in request.named_lines()
                for aggregate_id in (key.line_id, holder_id(key.holder))
            ]
        )
        events: list[Any] = []
        firsts = seen.first_fingerprints(
            [(request.movement_id, request.fingerprint()) for _, request in chunk]
        )
        for (number, request), earlier in zip(chunk, firsts, strict=True):
            fingerprint = request.fingerprint()
            prior = recorded.get(request.aggregate_id)
            if earlier is not None and earlier != fingerprint:
                outcome.bad.append(
                    BadRow(
                        number,
                        "movement_id",
                        f"{request.movement_id} is used twice in this file for different movements",
                    )
                )
            elif prior is not None and prior.fingerprint != fingerprint:
                outcome.bad.append(
                    BadRow(
                        number,
                        "movement_id",
                        f"{request.movement_id} was already recorded for a different movement "
                        f"(differs in: {', '.join(prior.differences(request))})",
                    )
                )
            elif prior is not None or earlier is not None:
                # Recorded before this file, or earlier in it: the same movement again.
                outcome.already += 1
            else:
                try:
                    aggregates = batch.plan(request, actor=self.actor, at=self.ledger.now())
                except LedgerError as error:
                    self._bad(outcome, number, error)
                    continue
                for aggregate in aggregates:
                    events.extend(aggregate.collect_events())
                outcome.recorded += 1
        return events

    def _rebuilt(
        self,
        chunk: list[tuple[int, Item]],
        recorded: dict[UUID, Movement],
        seen: SeenRows,
        outcome: Outcome,
    ) -> list[tuple[int, MovementRequest]]:
        """The chunk's movements to plan: the import's rows as they are; of an export, those
        not recorded yet, rebuilt from their rows. An exported movement recorded here (or
        given on an earlier day of the file: the rows a late movement adds on the day a
        holder ended) is already recorded, if it is the one the rows show."""
        requests: list[tuple[int, MovementRequest]] = []
        for number, item in chunk:
            if isinstance(item, MovementRequest):
                requests.append((number, item))
                continue
            try:
                # Under a key no movement id has ('/'), apart from the ids' fingerprints.
                earlier = seen.first_fingerprint(f"exported/{item.movement_id}", EXPORTED)
                prior = recorded.get(movement_aggregate_id(item.movement_id))
                if earlier is not None:
                    outcome.already += 1
                elif prior is None:
                    requests.append((number, exported.request(item)))
                elif exported.matches(prior, item):
                    outcome.already += 1
                else:
                    outcome.bad.append(
                        BadRow(
                            number,
                            "movement_id",
                            f"{item.movement_id} was already recorded for a different movement "
                            f"({prior.action} on {', '.join(k.label for k in _lines(prior))})",
                        )
                    )
            except LedgerError as error:
                self._bad(outcome, number, error)
        return requests

    def _bad(self, outcome: Outcome, number: int, error: LedgerError) -> None:
        outcome.bad.append(BadRow(number, error.field, error.message))
