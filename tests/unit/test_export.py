"""The export's pure parts: rows and CSV with Vietnamese headers, the hledger journal's chart
of accounts and transactions, and the Fiscal Data Package descriptor. Built from the worked
example of docs/worked-example.md (plus an extension, a lapse and a component project) on a
memory ledger."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ledger.application import BudgetLedger
from ledger.domain.audit import check, history
from ledger.domain.values import LineKey
from ledger.interchange import datapackage, export, hledger
from tests.story import DONG_GIANG, LINE, TAY_GIANG, TY, figures, record, worked_example
from tests.succession_story import EXPECTED, LINE_2025, chained, succession_example

PROJECT_LINE = LineKey("DTTS", "SN", "NSTW", 2024, "TW", "DA4.TDA1")


@pytest.fixture
def entries(memory_ledger: BudgetLedger) -> list[dict[str, Any]]:
    worked_example(memory_ledger)
    record(
        memory_ledger,
        "extend",
        "w9",
        date(2025, 1, 20),
        TAY_GIANG,
        until=date(2025, 12, 31),
        basis="NQ 111/2024/QH15, điều 3; khoản 2",
    )
    record(memory_ledger, "lapse", "w10", date(2025, 2, 1), DONG_GIANG)
    record(
        memory_ledger,
        "adjust",
        "p1",
        date(2024, 2, 1),
        PROJECT_LINE,
        amount_vnd=7 * TY,
        decision="QĐ 1719/QĐ-TTg",
        note="dòng vốn của\ntiểu dự án",
    )
    assert figures(memory_ledger, DONG_GIANG)["lapsed_vnd"] == 50 * TY
    return history(memory_ledger.journal())


def test_movement_rows_speak_vietnamese_and_vietnam_time(entries: list[dict[str, Any]]) -> None:
    rows = export.movement_rows(entries, {"505": "Huyện Đông Giang"})
    payment = next(row for row in rows if row["movement_id"] == "w5")
    assert payment["action"] == "giải ngân"
    assert payment["holder"] == "505" and payment["holder_name"] == "Huyện Đông Giang"
    assert payment["available_change_vnd"] == -60 * TY
    assert payment["recorded_at"].utcoffset().total_seconds() == 7 * 3600
    headers = [header for _, header in export.MOVEMENT_COLUMNS]
    for expected in (
        "Ngày hiệu lực",
        "Thời điểm ghi sổ",
        "Người ghi",
        "Số quyết định / chứng từ",
        "Chương trình",
        "Loại vốn",
        "Nguồn vốn",
        "Năm kế hoạch",
        "Đơn vị",
        "Số tiền (đồng)",
    ):
        assert expected in headers


def test_csv_reads_back_to_the_same_figures(entries: list[dict[str, Any]]) -> None:
    rows = export.movement_rows(entries, {})
    text = export.csv_text(rows, export.MOVEMENT_COLUMNS)
    assert text.endswith("\r\n") and not text.startswith(export.CSV_BOM)
    read = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(read) == len(rows)
    extension = next(row for row in read if row["Mã bút toán"] == "w9")
    # A comma inside a cell is quoted, not a new column.
    assert extension["Số quyết định / chứng từ"] == "NQ 111/2024/QH15, điều 3; khoản 2"
    assert extension["Kéo dài đến ngày"] == "2025-12-31"
    assert extension["Dự án thành phần"] == ""
    last: dict[str, int] = {}
    for row in read:
        last[row["Đơn vị"] + row["Dự án thành phần"]] = int(row["Số dư khả dụng sau (đồng)"])
    assert last["505"] == 0 and last["504"] == 30 * TY and last["TWDA4.TDA1"] == 7 * TY


def test_known_at_keeps_only_what_was_recorded_by_then(memory_ledger: BudgetLedger) -> None:
    worked_example(memory_ledger)
    journal = list(memory_ledger.journal())
    cut = journal[3][1]["timestamp"]
    assert [p for p, _ in export.recorded_known_by(journal, cut)] == [p for p, _ in journal[:4]]
    assert len(list(export.recorded_known_by(journal, None))) == len(journal)


def test_each_line_is_an_account_and_projects_add_a_segment() -> None:
    assert hledger.line_account(LINE.as_dict()) == "GNBV:DTPT:NSTW:2024:TW"
    assert hledger.account(PROJECT_LINE.as_dict(), "disbursed") == (
        "DTTS:SN:NSTW:2024:TW:DA4.TDA1:disbursed"
    )
    assert hledger.account(LINE.as_dict(), "appropriation") == (
        "appropriation:GNBV:DTPT:NSTW:2024:TW"
    )


def test_every_hledger_transaction_balances_to_zero(entries: list[dict[str, Any]]) -> None:
    text = hledger.journal_text(entries, title="test")
    assert "commodity 1.000, VND" in text
    transactions = [chunk for chunk in text.split("\n\n") if chunk[:4].isdigit()]
    assert len(transactions) == len({entry["movement_id"] for entry in entries})
    balances: dict[str, int] = defaultdict(int)
    for chunk in transactions:
        total = 0
        for line in chunk.splitlines()[1:]:
            if line.strip().startswith(";"):
                continue
            account, amount = line.split()[:2]
            total += int(amount)
            balances[account] += int(amount)
        assert total == 0, chunk
    assert balances["GNBV:DTPT:NSTW:2024:505:available"] == 0
    assert balances["GNBV:DTPT:NSTW:2024:505:disbursed"] == 50 * TY
    assert balances["GNBV:DTPT:NSTW:2024:505:lapsed"] == 50 * TY
    assert balances["GNBV:DTPT:NSTW:2024:504:available"] == 30 * TY
    assert balances["appropriation:GNBV:DTPT:NSTW:2024:TW"] == -500 * TY


def test_hledger_transactions_carry_ids_decisions_and_assertions(
    entries: list[dict[str, Any]],
) -> None:
    text = hledger.journal_text(entries, title="test")
    payment = next(chunk for chunk in text.split("\n\n") if "(w5)" in chunk)
    assert payment.startswith("2024-03-01 (w5) giải ngân: REF w5\n")
    assert "    ; voucher: REF w5" in payment
    assert "GNBV:DTPT:NSTW:2024:505:available  -60000000000 VND = 90000000000 VND" in payment
    extension = next(chunk for chunk in text.split("\n\n") if "(w9)" in chunk)
    # ';' would start a comment in a description; ',' would end a tag's value.
    assert "kéo dài thời gian giải ngân: NQ 111/2024/QH15, điều 3, khoản 2" in extension
    assert "    ; basis: NQ 111/2024/QH15; điều 3; khoản 2" in extension
    assert "    ; until: 2025-12-31" in extension
    assert "GNBV:DTPT:NSTW:2024:504:available  0 VND = 30000000000 VND" in extension
    adjustment = next(chunk for chunk in text.split("\n\n") if "(p1)" in chunk)
    assert "    ; note: dòng vốn của tiểu dự án" in adjustment


def test_the_datapackage_descriptor_describes_its_csv_files() -> None:
    created = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    descriptor = datapackage.descriptor(
        as_of=date(2024, 12, 31), known_at=None, created=created, programs=["NTM", "MTQG2635"]
    )
    assert json.loads(json.dumps(descriptor)) == descriptor
    assert descriptor["profiles"] == {"fiscal": "*", "tabular": "*"}
    resources = {resource["name"]: resource for resource in descriptor["resources"]}
    assert resources["balances"]["path"] == datapackage.BALANCES_PATH
    names = {
        name: [field["name"] for field in resource["schema"]["fields"]]
        for name, resource in resources.items()
    }
    assert names["balances"] == [name for name, _ in export.BALANCE_COLUMNS]
    assert names["movements"] == [name for name, _ in export.MOVEMENT_COLUMNS]
    allowed = {"string", "integer", "date", "datetime", "year"}
    for resource in resources.values():
        for field in resource["schema"]["fields"]:
            assert field["type"] in allowed, field
            assert field["title"], field
    # A line's program is one of the ledger's registered programs, whichever they are.
    programs = [
        field["constraints"]["enum"]
        for resource in resources.values()
        for field in resource["schema"]["fields"]
        if field["name"] == "program"
    ]
    assert programs == [["MTQG2635", "NTM"]] * 2
    model = descriptor["model"]
    for measure in model["measures"].values():
        assert measure["currency"] == "VND" and measure["source"] in names["balances"]
    for dimension in model["dimensions"].values():
        for attribute in dimension["attributes"].values():
            assert attribute["source"] in names[attribute["resource"]]
        assert set(dimension["primaryKey"]) <= set(dimension["attributes"])


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x","y")',
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "=",
        "-",
    ],
)
def test_text_that_would_begin_a_formula_gets_a_quote(text: str) -> None:
    assert export.spreadsheet_text(text) == "'" + text
    assert export.csv_cell(text) == "'" + text
    assert export.xlsx_value(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "QĐ 95/QĐ-UBND", "KB 0123", " =1+1", "a=1", "'=1", "Huyện Đông Giang", "x-1"]
)
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert export.spreadsheet_text(text) == text
    assert export.csv_cell(text) == text
    assert export.xlsx_value(text) == text


def test_numbers_dates_and_absent_values_are_not_text() -> None:
    assert export.csv_cell(-2230000000) == "-2230000000"
    assert export.xlsx_value(-2230000000) == -2230000000
    assert export.csv_cell(-1.5) == "-1.50"
    assert export.xlsx_value(-1.5) == -1.5
    assert export.csv_cell(None) == "" and export.xlsx_value(None) is None
    assert export.csv_cell(date(2024, 3, 7)) == "2024-03-07"
    assert export.xlsx_value(date(2024, 3, 7)) == date(2024, 3, 7)
    assert export.csv_cell(True) == "true"


def test_neutralised_csv_reads_back_with_the_quote(entries: list[dict[str, Any]]) -> None:
    entry = {**entries[0], "note": '=HYPERLINK("http://x","y")', "actor": "-2+3"}
    text = export.csv_text(export.movement_rows([entry], {}), export.MOVEMENT_COLUMNS)
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["Ghi chú"] == "'" + '=HYPERLINK("http://x","y")'
    assert row["Người ghi"] == "'-2+3"
    assert row["Số tiền (đồng)"] == str(entry["amount_vnd"])


def test_control_characters_show_as_their_symbols_in_a_workbook() -> None:
    # openpyxl refuses C0 control characters in a cell; text recorded before they were
    # refused on input must still export. Tab, line feed and carriage return are allowed.
    assert export.xlsx_value("KB\x1b[31m 1\x00\x7f") == "KB\u241b[31m 1\u2400\x7f"
    assert export.xlsx_value("a\tb\nc\rd") == "a\tb\nc\rd"
    assert export.xlsx_value("\x1b=1") == "\u241b=1"  # a symbol, not a formula start


@pytest.fixture
def succession_entries(memory_ledger: BudgetLedger) -> list[dict[str, Any]]:
    succession_example(memory_ledger)
    return history(memory_ledger.journal())


def _transactions(text: str) -> list[str]:
    return [chunk for chunk in text.split("\n\n") if chunk[:4].isdigit()]


def _postings(chunk: str) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for line in chunk.splitlines()[1:]:
        if not line.strip().startswith(";"):
            account, amount = line.split()[:2]
            found[account] += int(amount)
    return dict(found)


def test_a_succession_is_one_transaction_between_the_two_lines_accounts(
    succession_entries: list[dict[str, Any]],
) -> None:
    text = hledger.journal_text(succession_entries, title="test")
    transactions = _transactions(text)
    balances: dict[str, int] = defaultdict(int)
    for chunk in transactions:
        postings = _postings(chunk)
        assert sum(postings.values()) == 0, chunk
        for account, amount in postings.items():
            balances[account] += amount
    (succession,) = [chunk for chunk in transactions if "(s1)" in chunk]
    assert succession.startswith(
        "2025-07-01 (s1) kế thừa (sắp xếp đơn vị hành chính): NQ 1/2025/UBTVQH15\n"
    )
    assert "    ; decision: NQ 1/2025/UBTVQH15" in succession
    # Each line passed moves its available amount to the successor's line of the same key;
    # nothing is disbursed, lapsed or appropriated; the extension it carried moves no amount.
    assert _postings(succession) == {
        "GNBV:DTPT:NSTW:2024:504:available": -30 * TY,
        "GNBV:DTPT:NSTW:2024:505:available": -50 * TY,
        "GNBV:DTPT:NSTW:2024:506:available": 80 * TY,
        "GNBV:DTPT:NSTW:2025:504:available": -60 * TY,
        "GNBV:DTPT:NSTW:2025:505:available": -60 * TY,
        "GNBV:DTPT:NSTW:2025:506:available": 120 * TY,
    }
    # The successor's line is posted twice (from 504 and from 505): asserted once, after both.
    # (The 2025 lines are asserted later that day, after the late movements' transactions.)
    assert succession.count("GNBV:DTPT:NSTW:2024:506:available") == 2
    assert "506:available  30000000000 VND\n" in succession
    assert "506:available  50000000000 VND = 80000000000 VND" in succession
    assert succession.count("= ") == 3
    # The late payment: its own transaction on its date, and what it took back from what had
    # passed on, on the day 504 ended, between the two lines.
    late = [chunk for chunk in transactions if "(late1)" in chunk]
    assert [chunk[:10] for chunk in late] == ["2025-06-20", "2025-07-01"]
    assert _postings(late[0]) == {
        "GNBV:DTPT:NSTW:2025:504:available": -15 * TY,
        "GNBV:DTPT:NSTW:2025:504:disbursed": 15 * TY,
    }
    assert late[1].startswith(
        "2025-07-01 (late1) kế thừa (sắp xếp đơn vị hành chính), theo giải ngân: REF late1\n"
    )
    assert _postings(late[1]) == {
        "GNBV:DTPT:NSTW:2025:504:available": 15 * TY,
        "GNBV:DTPT:NSTW:2025:506:available": -15 * TY,
    }
    # Every line ends where the ledger says it does; what came in stays in.
    for key, expected in EXPECTED.items():
        account = hledger.account(key.as_dict(), "available")
        assert balances.get(account, 0) == expected["available_vnd"] * TY, account
    assert balances["appropriation:GNBV:DTPT:NSTW:2025:TW"] == -300 * TY


def test_succession_rows_name_the_succession_in_vietnamese(
    succession_entries: list[dict[str, Any]],
) -> None:
    rows = export.movement_rows(succession_entries, {"506": "Huyện Đông Tây Giang"})
    succession = [row for row in rows if row["movement_id"] == "s1"]
    assert len(succession) == 8  # four lines passed on, four postings received
    assert {row["action"] for row in succession} == {"kế thừa (sắp xếp đơn vị hành chính)"}
    assert {row["holder_name"] for row in succession if row["holder"] == "506"} == {
        "Huyện Đông Tây Giang"
    }
    text = export.csv_text(rows, export.MOVEMENT_COLUMNS)
    assert "kế thừa (sắp xếp đơn vị hành chính)" in text
    package_rows = datapackage.movement_rows(succession_entries, {})
    (field,) = [
        field
        for resource in datapackage.descriptor(
            as_of=date(2025, 12, 31),
            known_at=None,
            created=datetime(2026, 1, 1, tzinfo=UTC),
            programs=["GNBV"],
        )["resources"]
        if resource["name"] == "movements"
        for field in resource["schema"]["fields"]
        if field["name"] == "action"
    ]
    assert {row["action"] for row in package_rows} <= set(field["constraints"]["enum"])
    assert "succeed" in field["constraints"]["enum"]


def test_a_late_movement_through_chained_successions_is_a_transaction_per_date(
    memory_ledger: BudgetLedger,
) -> None:
    # 506 ends in turn into the province on 1/10/2025; then a payment of 504 effective
    # 25/6 arrives: it takes back from what 504 passed to 506 on 1/7, and from what 506
    # passed to 49 on 1/10.
    succession_example(memory_ledger)
    chained(memory_ledger)
    assert check(memory_ledger.journal(), memory_ledger.list_lines()) == []
    entries = history(memory_ledger.journal())
    text = hledger.journal_text(entries, title="test")
    late = [chunk for chunk in _transactions(text) if "(late3)" in chunk]
    assert [chunk[:10] for chunk in late] == ["2025-06-25", "2025-07-01", "2025-10-01"]
    assert [_postings(chunk) for chunk in late[1:]] == [
        {
            "GNBV:DTPT:NSTW:2025:504:available": 5 * TY,
            "GNBV:DTPT:NSTW:2025:506:available": -5 * TY,
        },
        {
            "GNBV:DTPT:NSTW:2025:506:available": 5 * TY,
            "GNBV:DTPT:NSTW:2025:49:available": -5 * TY,
        },
    ]
    balances: dict[str, int] = defaultdict(int)
    for chunk in _transactions(text):
        for account, amount in _postings(chunk).items():
            balances[account] += amount
    for line in memory_ledger.list_lines():
        assert balances.get(hledger.account(line.key.as_dict(), "available"), 0) == (
            line.available_vnd
        ), line.key
    assert figures(memory_ledger, LINE_2025.with_holder("49"))["received_vnd"] == 105 * TY
