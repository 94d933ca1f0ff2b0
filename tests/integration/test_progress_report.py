"""The progress report a finance office files (issue 15, "The report"): both denominators,
the plan stage, counterpart funds against a recorded ratio, the period's movement, grouping
with subtotals, a target's reach, proposals near a deadline; on SQLite and PostgreSQL.

The books: the worked example (GNBV/DTPT/NSTW/2024 in Quảng Nam, 49: 400 in, 150 to
Đông Giang 505 less 50 moved on to Tây Giang 504, 150 kept by the province), plus NSĐP
counterpart funds (49 puts up 30, passes 20 to 505, which pays 5 on 1/4) and a component
project of NTM (DA1: 50 from the centre to 49, on to 504, which pays 10 on 1/6). Amounts in tỷ."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from api.services import Services
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.values import LineKey
from projections.progress import Asked, Report, parse_by, parse_reference, report
from projections.progress_document import document
from tests.story import TY, record, worked_example

NSDP = LineKey("GNBV", "DTPT", "NSDP", 2024, "49")
DA1 = LineKey("NTM", "SN", "NSTW", 2024, "TW", "DA1")
JUNE = date(2024, 6, 10)


@pytest.fixture
def books(services: Services) -> Services:
    ledger = services.ledger
    worked_example(ledger)
    record(ledger, "adjust", "n1", date(2024, 1, 3), NSDP, amount_vnd=30 * TY)
    record(ledger, "allocate", "n2", date(2024, 1, 12), NSDP, counterpart="505", amount_vnd=20 * TY)
    record(ledger, "disburse", "n3", date(2024, 4, 1), NSDP.with_holder("505"), amount_vnd=5 * TY)
    record(ledger, "adjust", "p1", date(2024, 1, 2), DA1, amount_vnd=50 * TY)
    record(ledger, "allocate", "p2", date(2024, 1, 5), DA1, counterpart="49", amount_vnd=50 * TY)
    record(
        ledger,
        "allocate",
        "p3",
        date(2024, 1, 6),
        DA1.with_holder("49"),
        counterpart="504",
        amount_vnd=50 * TY,
    )
    record(ledger, "disburse", "p4", date(2024, 6, 1), DA1.with_holder("504"), amount_vnd=10 * TY)
    return services


def read(books: Services, **asked: Any) -> Report:
    return report(books.current_projections(), Asked(**{"as_of": JUNE, "holder": "49", **asked}))


def rows_by(found: Report) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(row["path"]): row for row in found.rows}


def tys(row: dict[str, Any], *names: str) -> tuple[int, ...]:
    return tuple(row[name] // TY for name in names)


def test_both_denominators_side_by_side(books: Services) -> None:
    found = read(books)
    rows = rows_by(found)
    total = found.total
    # Central funds: 400 + 50 in from the centre; the whole plan adds the 30 of NSĐP.
    assert tys(total, "plan_central_vnd", "plan_vnd") == (450, 480)
    assert tys(total, "disbursed_central_vnd", "disbursed_vnd") == (180, 185)
    assert total["rate_central_pct"] == 40.0 and total["rate_pct"] == round(100 * 185 / 480, 2)
    assert tys(rows[("505",)], "plan_central_vnd", "plan_vnd", "disbursed_vnd") == (100, 120, 55)
    assert tys(rows[("49",)], "plan_central_vnd", "plan_vnd") == (150, 160)  # its own, kept
    assert [row["row_kind"] for row in found.rows] == ["total", "detail", "detail", "detail"]


def test_the_plan_stage_allocated_counts_what_was_passed_down(books: Services) -> None:
    assigned, allocated = read(books), read(books, plan="allocated")
    # The province keeps 150 NSTW and 10 NSĐP not yet allocated on: the allocated plan is
    # what the districts hold; districts have nobody below them, so theirs is all detailed.
    assert tys(allocated.total, "plan_assigned_vnd", "plan_allocated_vnd") == (480, 320)
    assert allocated.total["allocated_pct"] == round(100 * 320 / 480, 2)
    assert tys(allocated.total, "plan_vnd") == (320,)
    assert allocated.total["rate_pct"] == round(100 * 185 / 320, 2)
    # Units (the province and its districts) with a plan, and those that allocated it all.
    assert (allocated.total["allocated_all_count"], allocated.total["units_count"]) == (2, 3)
    assert rows_by(allocated)[("505",)]["plan_vnd"] == rows_by(assigned)[("505",)]["plan_vnd"]
    # The stage is read per unit whatever the rows: the total is the same by any grouping,
    # and a program's row counts the units that hold it.
    for by in ("program", "kind", "source", "project,holder", "program,holder"):
        other = read(books, plan="allocated", by=parse_by(by))
        figures = ("plan_vnd", "plan_allocated_vnd", "allocated_all_count", "units_count")
        assert [other.total[name] for name in figures] == [
            allocated.total[name] for name in figures
        ], by
    programs = rows_by(read(books, plan="allocated", by=("program",)))
    assert (programs[("GNBV",)]["allocated_all_count"], programs[("GNBV",)]["units_count"]) == (
        2,
        3,
    )
    assert (programs[("NTM",)]["allocated_all_count"], programs[("NTM",)]["units_count"]) == (1, 1)


def test_a_unit_that_pays_itself_has_detailed_what_it_holds(books: Services) -> None:
    # Tây Giang pays from a line it never allocated from: it is an investor, its plan is
    # all detailed even though holders may sit below it; the province, which allocates,
    # keeps what it has not passed down as not yet detailed.
    ledger = books.ledger
    ledger.register_holder("50401", "Xã A Xan", "commune", "504", actor="tester")
    found = read(books, plan="allocated")
    assert (
        rows_by(found)[("504",)]["plan_allocated_vnd"]
        == rows_by(found)[("504",)]["plan_assigned_vnd"]
    )


def test_january_reads_last_year_s_plan_at_its_deadline(books: Services) -> None:
    # On 15/1/2025 the 2024 plan is still being disbursed (until 31/1): --year 2024 reads it,
    # its undisbursed money near its deadline proposed for extension.
    january = read(books, as_of=date(2025, 1, 15), year=2024)
    december = read(books, as_of=date(2024, 12, 31))
    assert january.year == 2024 and january.total["plan_vnd"] == december.total["plan_vnd"]
    assert january.total["proposed_extension_vnd"] == (
        january.total["plan_vnd"] - january.total["disbursed_vnd"]
    )
    assert read(books, as_of=date(2025, 1, 15)).total["plan_vnd"] == 0  # 2025's: none
    for year, day in [(2023, date(2025, 1, 15)), (2024, date(2023, 12, 31))]:
        with pytest.raises(InvalidInput) as refused:
            Asked(as_of=day, year=year)
        assert refused.value.field == "year"


def test_component_projects_sort_as_people_number_them(books: Services) -> None:
    ledger = books.ledger
    for number, project in enumerate(["DA10", "DA2"], start=1):
        line = LineKey("NTM", "SN", "NSTW", 2024, "49", project)
        record(ledger, "adjust", f"q{number}", date(2024, 2, 1), line, amount_vnd=TY)
    found = read(books, by=("project",))
    assert [row["path"] for row in found.rows] == [[], [""], ["DA1"], ["DA2"], ["DA10"]]


def test_counterpart_ratios_as_the_books_stood(books: Services) -> None:
    ledger = books.ledger
    ledger.set_counterpart_ratio("GNBV", 2024, "10", "QĐ 1", actor="tester")
    between = ledger.now()
    ledger.set_counterpart_ratio("GNBV", 2024, "20", "QĐ 2", actor="tester")
    assert ledger.counterpart_ratios(2024, between) == {"GNBV": 10.0}
    assert ledger.counterpart_ratios(2024) == {"GNBV": 20.0}


def test_counterpart_funds_against_the_recorded_ratio(books: Services) -> None:
    _, recorded = books.ledger.set_counterpart_ratio(
        "GNBV", 2024, "10", "QĐ 90/QĐ-TTg", actor="tester"
    )
    assert recorded
    ratios = books.ledger.counterpart_ratios(2024)
    assert ratios == {"GNBV": 10.0}
    found = read(books, ratios=ratios)
    rows = rows_by(found)
    # 49's subtree: NSTW 400 of GNBV asks 40 of NSĐP; 30 is planned (NTM has no ratio).
    assert tys(found.total, "counterpart_vnd", "counterpart_required_vnd") == (30, 40)
    assert found.total["counterpart_short"] is True
    assert tys(rows[("505",)], "counterpart_vnd", "counterpart_required_vnd") == (20, 10)
    assert rows[("505",)]["counterpart_short"] is False
    unasked = read(books).total  # no ratio given to the report: nothing is required
    assert unasked["counterpart_required_vnd"] is None and unasked["counterpart_short"] is False


def test_a_ratio_refused_records_nothing(books: Services) -> None:
    ledger = books.ledger
    head = ledger.recorder.max_notification_id()
    for code, year, ratio, field in [
        ("GNBV", 2030, "10", "year"),  # GNBV is valid up to 2025
        ("GNBV", 2024, "ten", "ratio"),
        ("GNBV", 2024, "100001", "ratio"),
        ("XYZ", 2024, "10", "program"),
    ]:
        with pytest.raises(LedgerError) as refused:
            ledger.set_counterpart_ratio(code, year, ratio, "QĐ 1", actor="tester")
        assert refused.value.field == field, (code, year, ratio)
    assert ledger.recorder.max_notification_id() == head
    assert ledger.counterpart_ratios(2024) == {}
    ledger.set_counterpart_ratio("GNBV", 2024, "10,5", "QĐ 1", actor="tester")
    _, again = ledger.set_counterpart_ratio("GNBV", 2024, "10.50", "QĐ 1", actor="tester")
    assert not again and ledger.counterpart_ratios(2024) == {"GNBV": 10.5}


def test_the_period_s_movement_and_the_change_since_the_previous_period(books: Services) -> None:
    found = read(books, period="fortnight")
    assert found.period is not None
    assert (found.period.start, found.period.previous_end) == (date(2024, 5, 28), date(2024, 5, 27))
    total = found.total
    # In the fortnight to 10/6: Tây Giang's 120 (1/6) and DA1's 10 (1/6).
    assert tys(total, "disbursed_period_vnd") == (130,)
    # In the fortnight before it (14/5 to 27/5): nothing; the reversal of 1/5 was before.
    assert tys(total, "disbursed_previous_period_vnd") == (0,)
    before = round(100 * 55 / 480, 2)
    assert total["rate_previous_pct"] == before
    assert total["rate_change_pct"] == round(total["rate_pct"] - before, 2)
    month = read(books, period="month")
    assert month.period is not None and month.period.start == date(2024, 6, 1)
    assert tys(month.total, "disbursed_period_vnd") == (130,)


def test_grouping_adds_up_at_every_level(books: Services) -> None:
    found = read(books, by=parse_by("program,project,holder"))
    rows = found.rows
    assert rows[0]["row_kind"] == "total"
    for row in rows:
        children = [
            other
            for other in rows
            if len(other["path"]) == len(row["path"]) + 1
            and other["path"][: len(row["path"])] == row["path"]
        ]
        if row["row_kind"] == "detail":
            assert not children
            continue
        for name in ("plan_vnd", "disbursed_vnd", "plan_central_vnd", "unspent_vnd"):
            assert row[name] == sum(child[name] for child in children), (row["path"], name)
    paths = [tuple(row["path"]) for row in rows]
    assert ("NTM",) in paths and ("NTM", "DA1") in paths and ("NTM", "DA1", "504") in paths
    assert ("GNBV", "") in paths  # lines of no component project
    assert tys(rows_by(found)[("NTM", "DA1", "504")], "plan_vnd", "disbursed_vnd") == (50, 10)


def test_a_target_flags_rows_that_cannot_reach_it_at_their_pace(books: Services) -> None:
    found = read(books, target_pct=95)
    elapsed, days = (JUNE - date(2024, 1, 1)).days + 1, 366
    total = found.total
    assert total["projected_rate_pct"] == round(total["rate_pct"] * days / elapsed, 2)
    assert total["off_target"] is (total["projected_rate_pct"] < 95)
    rows = rows_by(found)
    assert rows[("504",)]["off_target"] is False  # 130 of 200 by June: on pace for the year
    assert rows[("49",)]["off_target"] is True  # the province has paid nothing itself
    assert "off_target" not in read(books).total


def test_money_near_its_deadline_is_proposed_for_extension(books: Services) -> None:
    autumn = read(books, as_of=date(2024, 10, 15))
    total = autumn.total
    # 31/1/2025 is 108 days away: what is undisbursed of this year's plan is near it.
    assert total["proposed_extension_vnd"] == total["plan_vnd"] - total["disbursed_vnd"]
    assert total["proposed_lapse_vnd"] == 0
    assert read(books, as_of=date(2024, 10, 15), near_days=60).total["proposed_extension_vnd"] == 0
    assert read(books).total["proposed_extension_vnd"] == 0


def test_a_reference_and_the_options_refused(books: Services) -> None:
    assert parse_reference("cả nước=32") == ("cả nước", 32.0)
    assert parse_reference("cả nước = 32,5%") == ("cả nước", 32.5)
    for bad in ("cả nước", "=32", "cả nước=ba"):
        with pytest.raises(InvalidInput):
            parse_reference(bad)
    for bad_by in ("", "holder,holder", "district"):
        with pytest.raises(InvalidInput):
            replace(Asked(as_of=JUNE), by=tuple(bad_by.split(",")) if bad_by else ())
    with pytest.raises(InvalidInput):
        parse_by("program,district")
    with pytest.raises(InvalidInput):
        Asked(as_of=JUNE, plan="detailed")
    with pytest.raises(InvalidInput):
        Asked(as_of=JUNE, target_pct=0)


def test_the_filed_document_numbers_names_and_notes_its_rows(books: Services) -> None:
    found = read(books, by=parse_by("program,holder"), target_pct=95, period="fortnight")
    found.references.append(("cả nước", 32.0))
    filed = document(
        found,
        program_names={"GNBV": "Giảm nghèo bền vững", "NTM": "Nông thôn mới"},
        unit="ty",
        place="Tam Kỳ",
        signed_on=date(2024, 6, 11),
    )
    assert filed.title.endswith("ĐẾN NGÀY 10/6/2024") and filed.issuer == "TỈNH QUẢNG NAM"
    assert filed.unit_line == "Đơn vị tính: tỷ đồng"
    assert [(row.stt, row.label) for row in filed.rows] == [
        ("", "Tổng cộng"),
        ("I", "GNBV - Giảm nghèo bền vững"),
        ("1", "49 - Tỉnh Quảng Nam"),
        ("2", "504 - Huyện Tây Giang"),
        ("3", "505 - Huyện Đông Giang"),
        ("II", "NTM - Nông thôn mới"),
        ("1", "504 - Huyện Tây Giang"),
    ]
    keys = [column.key for column in filed.columns]
    assert keys[:2] == ["plan_central_vnd", "plan_vnd"]
    assert {"disbursed_period_vnd", "rate_change_pct", "off_target", "below_average"} <= set(keys)
    assert "counterpart_vnd" not in keys  # no ratio recorded: no counterpart columns
    for column in filed.columns:
        if column.ratio:
            assert set(column.ratio) <= set(keys), column.key  # a rate's formula has its figures
    assert any(note.startswith("Tham chiếu: cả nước 32,00%") for note in filed.notes)
    assert any(note.startswith("Mục tiêu 95,00%") for note in filed.notes)
    english = document(found, program_names={}, lang="en")
    assert english.rows[0].label == "Total" and english.unit_line == "Unit: million dong"
    assert english.columns[0].header("en") == "Central (NSTW)"
