"""Programs as a finance officer registers and uses them: ``budget-ledger programs add`` and
``programs list``; a line of 2026 on the merged 2026-2035 program is recorded, one on NTM is
refused, nothing recorded."""

from __future__ import annotations

import pytest

from ledger.application import open_ledger
from tests.e2e.cli_story import TY, Cli, quang_nam

MERGED = "MTQG2635"
MERGED_NAME = (
    "Chương trình MTQG xây dựng nông thôn mới, giảm nghèo bền vững và phát triển KT-XH vùng "
    "đồng bào DTTS và miền núi giai đoạn 2026-2035"
)
ADD_MERGED = (
    "programs", "add", MERGED, MERGED_NAME,
    "--from-year", "2026", "--to-year", "2035", "--decision", "NQ 257/2025/QH15",
)  # fmt: skip


def line(program: str, year: int = 2026) -> tuple[str, ...]:
    return ("--program", program, "--kind", "DTPT", "--source", "NSTW", "--year", str(year))


@pytest.fixture
def tree(database: str) -> Cli:
    return quang_nam(Cli(database).init(), actor="sotaichinh")


def head(database: str) -> int:
    ledger = open_ledger(database)
    try:
        return ledger.head_position()
    finally:
        ledger.close()


def test_init_lists_the_three_programs_valid_up_to_2025(tree: Cli) -> None:
    programs = tree.json("programs", "list")
    assert [(p["code"], p["from_year"], p["to_year"]) for p in programs] == [
        ("DTTS", 2000, 2025),
        ("GNBV", 2000, 2025),
        ("NTM", 2000, 2025),
    ]
    assert {p["actor"] for p in programs} == {"budget-ledger init"}
    table = tree.out("programs", "list")
    assert "NQ 24/2021/QH15" in table and "nông thôn mới" in table


def test_the_merged_program_takes_2026_lines_and_ntm_does_not(tree: Cli, database: str) -> None:
    before = head(database)
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line("NTM"), expect=1
    )
    assert refused.output.startswith(
        "Error: refused (program-not-valid): program: program NTM is valid for plan years up "
        "to 2025; no program is registered for 2026; list them with 'budget-ledger programs "
        "list' or register one with 'budget-ledger programs add'"
    )
    assert head(database) == before

    added = tree.out(*ADD_MERGED)
    assert added == f"program {MERGED} {MERGED_NAME}: plan years 2026 to 2035 (NQ 257/2025/QH15)\n"
    tree.adjust("TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line(MERGED))
    tree.allocate("TW", "49", 2 * TY, decision="QĐ 2", date="2026-01-06", line=line(MERGED))
    assert tree.balances(program=MERGED)["49"]["available_vnd"] == 2 * TY

    before = head(database)
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2026-01-05", line=line("NTM"), expect=1
    )
    assert f"for 2026 the valid programs are: {MERGED} ({MERGED_NAME})" in refused.output
    refused = tree.adjust(
        "TW", 5 * TY, decision="QĐ 1", date="2025-01-05", line=line(MERGED, 2025), expect=1
    )
    assert (
        "program MTQG2635 is valid for plan years 2026 to 2035; for 2025 the valid programs "
        "are: DTTS" in refused.output
    )
    assert head(database) == before
    assert "OK" in tree.check()


def test_adding_a_program_again_records_nothing_and_other_terms_are_refused(
    tree: Cli, database: str
) -> None:
    tree.out(*ADD_MERGED)
    before = head(database)
    again = tree.out(*ADD_MERGED)
    assert again.endswith("(already registered; nothing recorded)\n")
    other_years = [*ADD_MERGED[:4], "--from-year", "2026", "--decision", "NQ 257/2025/QH15"]
    refused = tree.run(*other_years, expect=1)
    assert "refused (invalid-input): code: program MTQG2635 is already registered" in refused.output
    backwards = [
        "programs",
        "add",
        "P2",
        "a program",
        "--from-year",
        "2030",
        "--to-year",
        "2026",
        "--decision",
        "Q",
    ]
    refused = tree.run(*backwards, expect=1)
    assert "to_year: 2026 is before from_year 2030" in refused.output
    malformed = tree.run(
        "programs", "add", "P/2", "a program", "--from-year", "2030", "--decision", "Q", expect=1
    )
    assert "code: 'P/2' is not a program code" in malformed.output
    foreign = tree.run(
        "programs", "add", "P2", "a program", "--from-year", "２０３０", "--decision", "Q", expect=2
    )
    assert "Invalid value for '--from-year'" in foreign.output
    assert head(database) == before
    assert [p["code"] for p in tree.json("programs", "list")] == ["DTTS", "GNBV", MERGED, "NTM"]
