"""The program registry on both stores: a new ledger records its built-in programs, a
registration is read back by every process, a line's program is checked against it, and an
import reports a row of a program not valid for its plan year as a bad row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from api.services import Services
from ledger.application import BudgetLedger, open_ledger
from ledger.domain.errors import ProgramNotValid
from ledger.domain.programs import BUILT_IN_ACTOR
from ledger.domain.values import LineKey
from ledger.interchange.importer import Importer
from tests.story import TY, record, register_tree, state

MERGED = "MTQG2635"
MERGED_NAME = (
    "Chương trình MTQG xây dựng nông thôn mới, giảm nghèo bền vững và phát triển KT-XH vùng "
    "đồng bào DTTS và miền núi giai đoạn 2026-2035"
)
MERGED_2026 = LineKey(MERGED, "DTPT", "NSTW", 2026, "TW")
NTM_2026 = LineKey("NTM", "DTPT", "NSTW", 2026, "TW")


@pytest.fixture
def ledger(stored_ledger: BudgetLedger) -> BudgetLedger:
    register_tree(stored_ledger)
    return stored_ledger


def test_a_new_ledger_records_its_built_in_programs_once(services: Services, database: str) -> None:
    programs = services.ledger.list_programs()
    assert [(p.code, p.to_year, p.actor) for p in programs] == [
        ("DTTS", 2025, BUILT_IN_ACTOR),
        ("GNBV", 2025, BUILT_IN_ACTOR),
        ("NTM", 2025, BUILT_IN_ACTOR),
    ]
    head = services.ledger.head_position()
    assert head == 3
    again = open_ledger(database, create=True)  # init run again
    try:
        assert again.head_position() == head
        assert again.list_programs() == programs
    finally:
        again.close()


def test_a_registered_program_takes_lines_of_its_years_in_every_process(
    ledger: BudgetLedger, database: str
) -> None:
    # Another process (a second ledger on the same database) read the registry first.
    other = open_ledger(database)
    try:
        with pytest.raises(ProgramNotValid):
            other.check_program(MERGED_2026)
        _, recorded = ledger.register_program(
            MERGED, MERGED_NAME, 2026, 2035, "NQ 257/2025/QH15", actor="kt"
        )
        assert recorded
        receipt = record(other, "adjust", "m1", date(2026, 1, 5), MERGED_2026, amount_vnd=5 * TY)
        assert receipt["lines"][0]["available_vnd"] == 5 * TY
        assert [p.code for p in other.list_programs()] == ["DTTS", "GNBV", MERGED, "NTM"]
        _, recorded = other.register_program(
            MERGED, MERGED_NAME, 2026, 2035, "NQ 257/2025/QH15", actor="kt"
        )
        assert not recorded
    finally:
        other.close()

    before = state(ledger)
    with pytest.raises(ProgramNotValid, match=f"for 2026 the valid programs are: {MERGED} "):
        record(ledger, "adjust", "n1", date(2026, 1, 5), NTM_2026, amount_vnd=5 * TY)
    assert state(ledger) == before


def test_an_import_reports_a_row_of_a_program_not_valid_as_a_bad_row(
    ledger: BudgetLedger, tmp_path: Path
) -> None:
    ledger.register_program(MERGED, MERGED_NAME, 2026, 2035, "NQ 257/2025/QH15", actor="kt")
    header = "action,movement_id,effective_date,program,kind,source,year,holder,amount_vnd,decision"
    rows = [
        f"adjust,i1,2026-01-05,{MERGED},DTPT,NSTW,2026,TW,5000000000,NQ 1",
        "adjust,i2,2026-01-05,NTM,DTPT,NSTW,2026,TW,5000000000,NQ 1",
        "adjust,i3,2024-01-05,XYZ,DTPT,NSTW,2024,TW,5000000000,NQ 1",
        "adjust,i4,2024-01-05,NTM,DTPT,NSTW,2024,TW,5000000000,NQ 1",
    ]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    before = state(ledger)

    outcome = Importer(ledger, "kt").run(path)

    assert [(bad.row, bad.field) for bad in outcome.bad] == [(3, "program"), (4, "program")]
    assert "program NTM is valid for plan years up to 2025" in outcome.bad[0].reason
    assert "no program has code XYZ" in outcome.bad[1].reason
    assert state(ledger) == before  # a file with a bad row records nothing

    path.write_text("\n".join([header, rows[0], rows[3]]) + "\n", encoding="utf-8")
    outcome = Importer(ledger, "kt").run(path)
    assert (outcome.bad, outcome.recorded) == ([], 2)
    assert ledger.get_line(MERGED_2026) is not None
