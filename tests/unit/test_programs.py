"""The program registry (ledger/domain/programs.py): codes are identities, a program is valid
for the plan years of its decision, and a line's program must be valid for its plan year.
Each rule is tried against an in-memory ledger, and the books are checked not to move."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ledger.application import BudgetLedger
from ledger.domain import limits
from ledger.domain.errors import InvalidInput, ProgramNotValid
from ledger.domain.programs import BUILT_IN, ProgramInfo, display_name, registry
from ledger.domain.values import LineKey, check_program, holder_id, program_id
from tests.story import LINE, TY, record, register_tree, state

MERGED = "MTQG2635"
MERGED_NAME = (
    "Chương trình MTQG xây dựng nông thôn mới, giảm nghèo bền vững và phát triển KT-XH vùng "
    "đồng bào DTTS và miền núi giai đoạn 2026-2035"
)
MERGED_DECISION = "NQ 257/2025/QH15"
NTM_2026 = LineKey("NTM", "DTPT", "NSTW", 2026, "TW")
MERGED_2026 = LineKey(MERGED, "DTPT", "NSTW", 2026, "TW")


@pytest.fixture
def ledger(memory_ledger: BudgetLedger) -> BudgetLedger:
    register_tree(memory_ledger)
    return memory_ledger


def register_merged(ledger: BudgetLedger, **changed: Any) -> tuple[ProgramInfo, bool]:
    terms: dict[str, Any] = {
        "code": MERGED,
        "name": MERGED_NAME,
        "from_year": 2026,
        "to_year": 2035,
        "decision": MERGED_DECISION,
    } | changed
    return ledger.register_program(**terms, actor="kt")


def test_a_program_is_valid_for_the_plan_years_of_its_terms() -> None:
    merged = ProgramInfo.parse(MERGED, MERGED_NAME, 2026, 2035, MERGED_DECISION)
    assert [merged.valid_for(year) for year in (2025, 2026, 2035, 2036)] == [
        False,
        True,
        True,
        False,
    ]
    assert merged.years == "2026 to 2035"
    open_ended = ProgramInfo.parse("NEW", "a program", "2030", None, "NQ 1")
    assert open_ended.valid_for(limits.YEAR_MAX) and not open_ended.valid_for(2029)
    assert open_ended.years == "from 2030 on"
    assert ProgramInfo.parse("ONE", "a year", 2027, 2027, "NQ 2").years == "2027 only"


def test_the_built_in_programs_are_the_three_of_2021_2025_valid_up_to_2025() -> None:
    assert sorted(BUILT_IN) == ["DTTS", "GNBV", "NTM"]
    for program in BUILT_IN.values():
        assert (program.from_year, program.to_year) == (limits.YEAR_MIN, 2025)
        assert program.years == "up to 2025"
    assert "nông thôn mới" in BUILT_IN["NTM"].name  # the Vietnamese meanings are kept
    assert [p.code for p in registry([])] == ["DTTS", "GNBV", "NTM"]


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ((MERGED, MERGED_NAME, 2026, 2025, MERGED_DECISION), "to_year"),
        ((MERGED, MERGED_NAME, limits.YEAR_MIN - 1, 2035, MERGED_DECISION), "from_year"),
        ((MERGED, MERGED_NAME, 2026, limits.YEAR_MAX + 1, MERGED_DECISION), "to_year"),
        ((MERGED, MERGED_NAME, "２０２６", 2035, MERGED_DECISION), "from_year"),
        (("MTQG/2635", MERGED_NAME, 2026, 2035, MERGED_DECISION), "code"),
        (("2635", MERGED_NAME, 2026, 2035, MERGED_DECISION), "code"),
        (("M" * (limits.PROGRAM_CODE_LENGTH_MAX + 1), MERGED_NAME, 2026, 2035, "Q"), "code"),
        ((MERGED, " ", 2026, 2035, MERGED_DECISION), "name"),
        ((MERGED, MERGED_NAME, 2026, 2035, ""), "decision"),
        ((MERGED, "tên\x1b[2J", 2026, 2035, MERGED_DECISION), "name"),
    ],
)
def test_malformed_terms_are_refused_naming_the_field_and_record_nothing(
    ledger: BudgetLedger, terms: tuple[Any, ...], field: str
) -> None:
    before = state(ledger)
    with pytest.raises(InvalidInput) as refused:
        ledger.register_program(*terms, actor="kt")
    assert refused.value.field == field
    assert state(ledger) == before
    assert [p.code for p in ledger.list_programs()] == ["DTTS", "GNBV", "NTM"]


def test_a_program_code_is_spelt_in_capitals_and_digits() -> None:
    assert check_program(" mtqg2635 ") == "MTQG2635"
    with pytest.raises(InvalidInput, match="not a program code"):
        check_program("N-T-M")


def test_registering_a_program_records_it_once(ledger: BudgetLedger) -> None:
    program, recorded = register_merged(ledger, code="mtqg2635")
    assert recorded and program.code == MERGED and program.actor == "kt"
    head = ledger.head_position()
    again, recorded = register_merged(ledger)
    assert not recorded and again == program
    assert ledger.head_position() == head
    assert [p.code for p in ledger.list_programs()] == ["DTTS", "GNBV", MERGED, "NTM"]


@pytest.mark.parametrize(
    "changed",
    [{"name": "another name"}, {"to_year": None}, {"from_year": 2025}, {"decision": "NQ 1"}],
)
def test_a_registered_code_is_never_given_other_terms(
    ledger: BudgetLedger, changed: dict[str, Any]
) -> None:
    register_merged(ledger)
    before = state(ledger)
    with pytest.raises(InvalidInput, match="already registered") as refused:
        register_merged(ledger, **changed)
    assert refused.value.field == "code"
    assert state(ledger) == before
    assert ledger.get_program(MERGED) == register_merged(ledger)[0]


def test_a_built_in_program_counts_as_registered_before_it_is_recorded(
    ledger: BudgetLedger,
) -> None:
    """A ledger made before the registry existed (a ledger in memory records none either):
    the built-in programs are its programs, and registering one with its terms records
    nothing, with other terms is refused."""
    head = ledger.head_position()
    ntm = BUILT_IN["NTM"]
    same, recorded = ledger.register_program(
        "NTM", ntm.name, ntm.from_year, ntm.to_year, ntm.decision, actor="kt"
    )
    assert (same, recorded) == (ntm, False)
    with pytest.raises(InvalidInput, match="already registered"):
        ledger.register_program("NTM", ntm.name, 2021, 2030, ntm.decision, actor="kt")
    assert ledger.head_position() == head
    record(ledger, "adjust", "a1", date(2024, 1, 2), LINE, amount_vnd=5 * TY)


def test_recording_the_built_in_programs_records_each_once(ledger: BudgetLedger) -> None:
    assert ledger.record_built_in_programs() == 3
    head = ledger.head_position()
    assert ledger.record_built_in_programs() == 0
    assert ledger.head_position() == head
    assert {p.code: p.actor for p in ledger.list_programs()} == {
        "DTTS": "budget-ledger init",
        "GNBV": "budget-ledger init",
        "NTM": "budget-ledger init",
    }


def test_a_line_s_program_must_be_valid_for_its_plan_year(ledger: BudgetLedger) -> None:
    before = state(ledger)
    with pytest.raises(ProgramNotValid) as refused:
        record(ledger, "adjust", "n1", date(2026, 1, 5), NTM_2026, amount_vnd=5 * TY)
    assert refused.value.field == "program"
    assert str(refused.value) == (
        "program: program NTM is valid for plan years up to 2025; no program is registered for 2026"
    )
    with pytest.raises(ProgramNotValid, match="no program has code MTQG2635"):
        record(ledger, "adjust", "m1", date(2026, 1, 5), MERGED_2026, amount_vnd=5 * TY)
    assert state(ledger) == before

    register_merged(ledger)
    record(ledger, "adjust", "m1", date(2026, 1, 5), MERGED_2026, amount_vnd=5 * TY)
    line = ledger.get_line(MERGED_2026)
    assert line is not None and line.available_vnd == 5 * TY

    before = state(ledger)
    with pytest.raises(ProgramNotValid) as refused:
        record(ledger, "adjust", "n2", date(2026, 1, 5), NTM_2026, amount_vnd=5 * TY)
    assert refused.value.message == (
        f"program NTM is valid for plan years up to 2025; for 2026 the valid programs are: "
        f"{MERGED} ({MERGED_NAME})"
    )
    with pytest.raises(ProgramNotValid, match="valid for plan years 2026 to 2035"):
        merged_2025 = LineKey(MERGED, "DTPT", "NSTW", 2025, "TW")
        record(ledger, "adjust", "m2", date(2025, 1, 5), merged_2025, amount_vnd=5 * TY)
    assert state(ledger) == before


def test_every_movement_that_opens_a_line_checks_its_program(ledger: BudgetLedger) -> None:
    """An allocation opens the receiver's line; a payment on a line never opened is refused
    for its program first (the clearer reason), then for its money."""
    register_merged(ledger)
    record(ledger, "adjust", "m1", date(2026, 1, 5), MERGED_2026, amount_vnd=5 * TY)
    before = state(ledger)
    unknown = LineKey("XYZ", "DTPT", "NSTW", 2024, "505")
    with pytest.raises(ProgramNotValid, match="no program has code XYZ"):
        record(ledger, "disburse", "d1", date(2024, 3, 1), unknown, amount_vnd=TY)
    with pytest.raises(ProgramNotValid, match="valid for plan years up to 2025"):
        record(
            ledger, "disburse", "d2", date(2026, 3, 1), NTM_2026.with_holder("505"), amount_vnd=TY
        )
    assert state(ledger) == before
    record(ledger, "allocate", "m2", date(2026, 1, 6), MERGED_2026, counterpart="49", amount_vnd=TY)
    assert ledger.get_line(MERGED_2026.with_holder("49")) is not None


def test_a_program_s_id_never_collides_with_a_holder_s() -> None:
    assert program_id("NTM") != holder_id("NTM")
    assert program_id("NTM") == program_id("NTM") != program_id("GNBV")


def test_a_report_shows_a_built_in_program_s_name_in_its_own_language() -> None:
    poverty = BUILT_IN["GNBV"]
    assert display_name(poverty, "vi") == "giảm nghèo bền vững"
    assert display_name(poverty, "en") == "sustainable poverty reduction"
    merged = ProgramInfo.parse("MTQG2635", "Chương trình MTQG (2026-2035)", 2026, 2035, "NQ 257")
    assert display_name(merged, "vi") == display_name(merged, "en") == merged.name
