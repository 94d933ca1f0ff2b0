"""The report document's small rules: numbering, labels, grouping, dates as titles write them."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.interchange.document import (
    Column,
    Document,
    Row,
    roman,
    signing_line,
    vietnamese_date,
)


def test_roman_numbers_the_first_level() -> None:
    numbers = [roman(n) for n in (1, 2, 3, 4, 9, 14, 40)]
    assert numbers == ["I", "II", "III", "IV", "IX", "XIV", "XL"]
    with pytest.raises(AssertionError):
        roman(0)


def test_dates_as_titles_and_signatures_write_them() -> None:
    assert vietnamese_date(date(2024, 9, 17)) == "17/9/2024"
    assert signing_line("Lai Châu", date(2024, 9, 17), "vi") == "Lai Châu, ngày 17 tháng 9 năm 2024"
    assert signing_line(None, date(2024, 9, 7), "vi") == "ngày 7 tháng 9 năm 2024"


def test_a_row_knows_its_children_and_its_label() -> None:
    total = Row("total", (), "", None, "Tổng cộng", {})
    program = Row("group", ("GNBV",), "I", "GNBV", "Giảm nghèo bền vững", {})
    holder = Row("detail", ("GNBV", "505"), "1", "505", "Huyện Đông Giang", {})
    other = Row("detail", ("NTM", "505"), "1", "505", "Huyện Đông Giang", {})
    document = Document(
        issuer="UBND tỉnh Quảng Nam",
        title="Tình hình giải ngân",
        subtitle=None,
        as_of=date(2024, 9, 17),
        known_at=None,
        unit="trieu",
        columns=[Column("plan_vnd", "Kế hoạch", "Plan", "vnd")],
        rows=[total, program, holder, other],
    )
    assert document.children(total) == [program]
    assert document.children(program) == [holder]
    assert holder.label == "505 - Huyện Đông Giang"
    assert total.label == "Tổng cộng"
    assert document.unit_line == "Đơn vị tính: triệu đồng"
    assert document.scale == 10**6
