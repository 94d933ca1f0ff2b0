"""Reading the ledger's own export of movements back (ledger/interchange/exported.py) and the
CSV separator, without I/O: rows in, movements out."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.movements import Allocate, Lapse, Reverse
from ledger.domain.values import LineKey
from ledger.interchange import exported
from ledger.interchange.export import MOVEMENT_COLUMNS
from ledger.interchange.import_files import separator as _separator
from ledger.interchange.importer import _header

LINE = {"program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": "2024"}


def row(number: int, **cells: str) -> tuple[int, dict[str, str]]:
    base = {"effective_date": "2024-01-10", "recorded_at": "2026-12-01T08:00:00+07:00",
            **LINE, "note": ""}  # fmt: skip
    return number, {**base, **cells}


def test_the_export_s_headers_are_read_as_its_columns_whatever_their_case() -> None:
    headers = [header for _, header in MOVEMENT_COLUMNS]
    assert _header(headers) == [name for name, _ in MOVEMENT_COLUMNS]
    assert _header([h.upper() for h in headers])[0] == "effective_date"
    with pytest.raises(InvalidInput, match="unknown column.*Thành tiền"):
        _header([*headers, "Thành tiền"])
    with pytest.raises(InvalidInput, match="lacks Mã bút toán"):
        _header([h for h in headers if h != "Mã bút toán"])


@pytest.mark.parametrize(
    ("header", "separator"),
    [
        ("effective_date;program;amount_vnd", ";"),
        ("effective_date,program,amount_vnd", ","),
        ("Ngày hiệu lực;Số quyết định / chứng từ", ";"),
        ("effective_date", ","),
    ],
)
def test_the_separator_is_the_header_s(header: str, separator: str) -> None:
    assert _separator(header) == separator


def test_an_allocation_is_rebuilt_from_its_two_rows_the_giver_s_falling() -> None:
    rows = [
        row(2, movement_id="a-1", action="giao vốn", reference="QĐ 95", holder="505",
            amount_vnd="150000000000", available_change_vnd="150000000000"),
        row(3, movement_id="a-1", action="giao vốn", reference="QĐ 95", holder="49",
            amount_vnd="150000000000", available_change_vnd="-150000000000"),
    ]  # fmt: skip
    [movement] = exported.movements(iter(rows))
    request = exported.request(movement)
    assert isinstance(request, Allocate)
    assert request.line == LineKey.parse(**LINE, holder="49")
    assert request.counterpart == "505"
    assert (request.amount_vnd, request.decision) == (150 * 10**9, "QĐ 95")
    assert request.effective_date == date(2024, 1, 10)


def test_a_day_s_movements_come_in_the_order_recorded() -> None:
    rows = [
        row(2, movement_id="late", action="giải ngân", reference="KB 2", holder="505",
            amount_vnd="5", available_change_vnd="-5", recorded_at="2026-12-01T09:00:00+07:00"),
        row(3, movement_id="early", action="giải ngân", reference="KB 1", holder="505",
            amount_vnd="5", available_change_vnd="-5", recorded_at="2026-12-01T08:00:00+07:00"),
        row(4, movement_id="next-day", action="giải ngân", reference="KB 3", holder="505",
            amount_vnd="5", available_change_vnd="-5", effective_date="2024-01-11"),
    ]  # fmt: skip
    assert [m.movement_id for m in exported.movements(iter(rows))] == ["early", "late", "next-day"]
    # Saved again by a spreadsheet, day first: the same order (not the text's).
    rows[0][1]["recorded_at"] = "01/12/2026 09:00"
    rows[1][1]["recorded_at"] = "30/11/2026 23:00"
    assert [m.movement_id for m in exported.movements(iter(rows))] == ["early", "late", "next-day"]


def test_a_lapse_takes_no_amount_and_a_reversal_no_line() -> None:
    lapse = exported.request(
        exported.Exported("l-1", [row(2, movement_id="l-1", action="hủy dự toán", holder="49",
                                      amount_vnd="7", available_change_vnd="-7")])
    )  # fmt: skip
    assert isinstance(lapse, Lapse)
    reversal = exported.request(
        exported.Exported("r-1", [row(2, movement_id="r-1", action="thu hồi giải ngân",
                                      reference="sai chứng từ", holder="505", reverses="p-1",
                                      amount_vnd="10", available_change_vnd="10")])
    )  # fmt: skip
    assert isinstance(reversal, Reverse)
    assert (reversal.reverses, reversal.amount_vnd, reversal.reason) == ("p-1", 10, "sai chứng từ")


@pytest.mark.parametrize(
    ("rows", "refusal"),
    [
        ([row(2, movement_id="a-1", action="giao vốn", reference="QĐ", holder="49",
              amount_vnd="1", available_change_vnd="-1")], "has 1 row"),
        ([row(2, movement_id="s-1", action="kế thừa (sắp xếp đơn vị hành chính)", holder="49",
              amount_vnd="1", available_change_vnd="-1")], "is a succession"),
        ([row(2, movement_id="x-1", action="chuyển khoản", holder="49", amount_vnd="1",
              available_change_vnd="-1")], "unknown movement 'chuyển khoản'"),
    ],
)  # fmt: skip
def test_a_movement_the_rows_do_not_show_whole_is_refused(
    rows: list[tuple[int, dict[str, str]]], refusal: str
) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        exported.request(exported.Exported(rows[0][1]["movement_id"], rows))


def test_a_workbook_s_recorded_time_keeps_its_time_and_other_dates_their_day() -> None:
    from datetime import datetime

    from ledger.interchange.importer import _cell_text

    moment = datetime(2026, 12, 1, 9, 30)
    assert _cell_text(moment, keep_time=True) == "2026-12-01T09:30:00"
    assert _cell_text(moment) == "2026-12-01"
