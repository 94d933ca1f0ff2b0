"""An import stores exactly what recording the same movements one by one stores: the same
events in the same order (topics, versions, state; only the recording times differ), a
chain that verify recomputes, lines and read models that agree."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.application import BudgetLedger, open_ledger
from ledger.interchange.importer import COLUMNS, Importer, SeenRows, read_rows, to_request
from ledger.storage.log import log_tables
from projections.queries import line_balances
from projections.runner import Projections
from tests.integration.test_projection import drop, fresh_database
from tests.story import LINE, QUANG_NAM, record, register_tree

TY = 10**9


def set_up(ledger: BudgetLedger) -> None:
    register_tree(ledger)
    record(ledger, "adjust", "f", date(2024, 1, 2), LINE, amount_vnd=300 * TY)
    record(ledger, "allocate", "a1", date(2024, 1, 3), LINE, counterpart="49", amount_vnd=200 * TY)
    for number, holder in enumerate(("505", "504"), start=2):
        record(
            ledger,
            "allocate",
            f"a{number}",
            date(2024, 1, 4),
            QUANG_NAM,
            counterpart=holder,
            amount_vnd=60 * TY,
        )


def _line(holder: str) -> dict[str, str]:
    return {
        "program": LINE.program,
        "kind": LINE.kind,
        "source": LINE.source,
        "year": str(LINE.year),
        "holder": holder,
    }


def write_file(path: Path) -> Path:
    """Disbursements over three lines in and out of date order, identical rows without an
    id, rows with one, an allocation and an adjustment the later rows depend on."""
    rows: list[dict[str, str]] = []
    for number in range(60):
        holder = ("505", "504", "49")[number % 3]
        day = date(2024, 2 + number % 11, 1 + (number * 7) % 28).isoformat()
        rows.append(
            {
                **_line(holder),
                "effective_date": day,
                "amount_vnd": str((1 + number % 5) * TY // 10),
                "voucher": f"KB {number // 2}",  # pairs of identical rows
                "movement_id": f"kb-{number}" if number % 4 == 0 else "",
            }
        )
        if number == 20:
            rows.append(
                {
                    **_line("49"),
                    "action": "allocate",
                    "to_holder": "505",
                    "effective_date": "2024-02-01",
                    "amount_vnd": str(5 * TY),
                    "decision": "QĐ 7",
                }
            )
        if number == 40:
            rows.append(
                {
                    **_line("504"),
                    "action": "adjust",
                    "effective_date": "2024-03-01",
                    "amount_vnd": str(2 * TY),
                    "decision": "QĐ 8",
                    "note": "bổ sung",
                }
            )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for cells in rows:
            writer.writerow([cells.get(name, "") for name in COLUMNS])
    return path


def stored_events(database: str) -> list[tuple[Any, ...]]:
    """Every stored event in log order, its state decoded with the recording time left out."""
    ledger = open_ledger(database)
    try:
        recorder: Any = ledger.recorder
        tables = log_tables(recorder)
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {tables.position} AS position, originator_id, originator_version, "
                f"topic, state FROM {tables.events} ORDER BY {tables.position}"
            )
            rows = cursor.fetchall()
    finally:
        ledger.close()
    events = []
    for row in rows:
        state = json.loads(bytes(row["state"]))
        assert state.pop("timestamp")
        events.append(
            (
                row["position"],
                str(row["originator_id"]).replace("-", ""),
                row["originator_version"],
                row["topic"],
                state,
            )
        )
    return events


def balances(database: str) -> list[dict[str, Any]]:
    ledger = open_ledger(database)
    projections = Projections(ledger, database)
    try:
        projections.catch_up()
        return line_balances(projections, {}, date(2030, 1, 1), datetime.now(UTC))
    finally:
        projections.close()
        ledger.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_an_import_stores_what_recording_row_by_row_stores(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many batches, rows across them.
    monkeypatch.setattr("ledger.interchange.importer.CHUNK_ROWS", 7)
    # Lines with snapshots and events after them: the import reads both.
    monkeypatch.setattr("ledger.domain.limits.LINE_SNAPSHOT_INTERVAL", 2)
    path = write_file(tmp_path / "kbnn.csv")
    imported, created_imported = fresh_database(store, str(tmp_path))
    one_by_one, created_one_by_one = fresh_database(store, str(tmp_path))
    try:
        for database in (imported, one_by_one):
            ledger = open_ledger(database, create=True)
            set_up(ledger)
            ledger.close()
        # The same file both ways; the read models follow from position 0 on both.
        assert balances(imported) == balances(one_by_one)
        ledger = open_ledger(imported)
        outcome = Importer(ledger, "kb").run(path)
        ledger.close()
        assert outcome.bad == [] and outcome.recorded == 62 and outcome.events == 125
        ledger = open_ledger(one_by_one)
        seen = SeenRows()
        for _, cells in read_rows(path):
            ledger.record(to_request(cells, seen.count), actor="kb")
        seen.close()
        ledger.close()

        events = stored_events(imported)
        assert len(events) > 125
        assert events == stored_events(one_by_one)
        after = balances(imported)
        assert after == balances(one_by_one)
        assert sum(line["disbursed_vnd"] for line in after) > 0
        runner = CliRunner()
        for database in (imported, one_by_one):
            for command in ("verify", "check"):
                result = runner.invoke(main, [command, "--database", database])
                assert result.exit_code == 0, (command, result.output)
        # The lines as read (from the snapshots the import took) equal the lines replayed
        # from their events.
        ledger = open_ledger(imported)
        try:
            for line in ledger.replay_lines():
                read = ledger.get_line(line.key)
                assert read is not None
                assert (read.version, read.figures(), read.available_change_by_day) == (
                    line.version,
                    line.figures(),
                    line.available_change_by_day,
                )
        finally:
            ledger.close()
    finally:
        drop(created_imported)
        drop(created_one_by_one)
