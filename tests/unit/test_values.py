"""The value rules every interface shares (ledger/domain/values.py): what an amount, a date, a time
and a piece of text may look like. A value is read whole or refused naming its field: never
half-understood."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.movements import movement
from ledger.domain.values import (
    LineKey,
    check_text,
    check_year,
    parse_amount,
    parse_date,
    parse_moment,
)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1500000000", 1_500_000_000),
        ("1.500.000.000", 1_500_000_000),
        ("1.000", 1000),
        ("-2.000.000", -2_000_000),
        (" 42 ", 42),
    ],
)
def test_amounts_are_ascii_digits_plain_or_grouped_with_dots(text: str, amount: int) -> None:
    assert parse_amount(text, signed=True) == amount


@pytest.mark.parametrize(
    "text",
    [
        "1.000,000",  # two grouping characters: which one is the decimal mark?
        "1,000.000",
        "1,000,000",  # a comma is the Vietnamese decimal mark: never a grouping
        "1 000 000",
        "1_000_000",
        "1.5",
        "1.0000",
        "１２３",  # full-width digits
        "١٢٣",  # Arabic-Indic digits
        "۱۲۳",  # extended Arabic-Indic digits
        "1２3",
        "",
        "-",
        "9" * 9999,  # more digits than Python converts
        "9" * 19,
    ],
)
def test_anything_else_is_not_an_amount(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount(text, signed=True)
    assert refused.value.field == "amount_vnd"


def test_a_refused_amount_says_what_a_correct_one_looks_like() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount("1.000,000")
    assert "1.500.000.000" in refused.value.message and "ASCII" in refused.value.message


@pytest.mark.parametrize("text", ["２０２４", "٢٠٢٤", "2024.0", "", "20 24"])
def test_a_year_is_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_year(text)
    assert refused.value.field == "year"
    assert check_year(" 2024 ") == 2024


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "２０２４-09-17",
        "2024-٠٩-17",
        "20240917",  # ISO basic form: Python reads it, a clerk would not write it
        "2024-W38-2",  # an ISO week date
        "2024-9-17",
        "2024-02-30",
        "0001-01-01",  # outside the dates the ledger holds
        "9999-12-31",
    ],
)
def test_a_date_is_yyyy_mm_dd_in_ascii_within_the_ledger_s_calendar(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_date(text, field="effective_date")
    assert refused.value.field == "effective_date"
    assert parse_date("2024-09-17", field="effective_date") == date(2024, 9, 17)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("17/09/2024", date(2024, 9, 17)),
        ("1/7/2025", date(2025, 7, 1)),
        ("01/07/2025", date(2025, 7, 1)),  # day first, always: never 7 January
        (" 5/2/2024 ", date(2024, 2, 5)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_a_date_may_be_written_day_first_as_offices_write_it(text: str, day: date) -> None:
    assert parse_date(text, field="as_of") == day


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2024",
        "29/02/2023",
        "17/13/2024",
        "2024-13-01",
        "17/09/24",  # a two-digit year: which century is a guess
        "17-09-2024",
        "17.09.2024",
        "１７/09/2024",
        "09/17/2024",  # month first, as an American would: there is no 17th month
        "17/09/2024 10:00",  # a time where a date is asked
        "/09/2024",
    ],
)
def test_a_wrong_date_is_refused_showing_both_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_date(text, field="as_of")
    assert refused.value.field == "as_of"
    assert "dd/mm/yyyy" in refused.value.message
    assert "yyyy-mm-dd" in refused.value.message


def test_the_api_s_dates_and_times_are_iso_only() -> None:
    for text in ("17/09/2024", "1/7/2025"):
        with pytest.raises(InvalidInput) as refused:
            parse_date(text, field="as_of", iso_only=True)
        assert "dd/mm/yyyy" not in refused.value.message
    with pytest.raises(InvalidInput):
        parse_moment("17/09/2024 14:00", field="known_at", iso_only=True)
    assert parse_date("2024-09-17", field="as_of", iso_only=True) == date(2024, 9, 17)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("17/09/2024 14:00", "2024-09-17T14:00"),
        ("17/9/2024 14:00:30", "2024-09-17T14:00:30"),
        ("17/09/2024", "2024-09-17"),  # the end of that day
        ("17/09/2024 07:00+00:00", "2024-09-17T07:00+00:00"),
    ],
)
def test_a_time_may_be_written_day_first_as_the_iso_time_it_means(text: str, iso: str) -> None:
    assert parse_moment(text, field="known_at") == parse_moment(iso, field="known_at")


@pytest.mark.parametrize("text", ["31/02/2024 10:00", "17/09/2024 25:00", "17/09/2024 10"])
def test_a_wrong_time_is_refused_showing_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_moment(text, field="known_at")
    assert "dd/mm/yyyy HH:MM" in refused.value.message
    assert "2024-09-17T16:30" in refused.value.message


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00",  # UTC would be year 0: OverflowError
        "9999-12-31T23:59:59-12:00",  # UTC would be year 10000
        "0001-01-01",
        "２０２４-09-17T10:00",
        "2024-09-17T１０:00",
        "2024-09-17T16",
        "",
        "2024-09-17 16:30 ICT",
    ],
)
def test_a_time_is_iso_in_ascii_within_the_ledger_s_calendar(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_moment(text, field="known_at")
    assert refused.value.field == "known_at"


@pytest.mark.parametrize(
    "text",
    [
        "2024-09-17T16:30",
        "2024-09-17 16:30",
        "2024-09-17T09:30+00:00",
        "2024-09-17T16:30+07",
        "2024-09-17T09:30:15.5Z",
        "2024-09-17",
    ],
)
def test_times_as_the_readme_writes_them_are_read(text: str) -> None:
    assert parse_moment(text, field="known_at").year == 2024


@pytest.mark.parametrize(
    "text",
    [
        "KB\x000123",  # NUL
        "bob\n",  # a newline in a one-line field
        "\t=1+1",  # a tab: refused, not stripped into a formula
        "bob\x1b[31m",  # ANSI escape
        "V\udcff\udcfe",  # bytes that were not UTF-8 (surrogate-escaped by the OS)
        "V\ud800",  # a lone surrogate from a JSON escape
        "a\x7fb",  # DEL
        "a\x85b",  # C1 control (NEL)
        "a\u2028b",  # line separator
        "a\u202eb",  # right-to-left override: would make a voucher read backwards
    ],
)
def test_one_line_text_refuses_control_characters(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text(text, field="voucher", length_max=200, required=True)
    assert refused.value.field == "voucher"
    assert text not in refused.value.message  # the message shows code points, not the bytes


def test_a_note_may_hold_newlines_and_tabs_only() -> None:
    note = "dòng 1\n\tdòng 2"
    assert check_text(note, field="note", length_max=1000, required=False, multiline=True) == note
    for bad in ("a\r\nb", "a\x00b", "a\x1b[2Jb", "a\x0bb", "a\udcffb"):
        with pytest.raises(InvalidInput):
            check_text(bad, field="note", length_max=1000, required=False, multiline=True)


def test_vietnamese_text_is_kept_as_given() -> None:
    text = "QĐ 1603/QĐ-TTg ngày 11/12/2023 — Huyện Đông Giang"
    assert check_text(text, field="decision", length_max=200, required=True) == text


def test_a_request_is_checked_whole_on_construction() -> None:
    line = LineKey.parse(program="GNBV", kind="DTPT", source="NSTW", year=2024, holder="505")
    with pytest.raises(InvalidInput) as refused:
        movement(
            "disburse",
            movement_id="p1",
            effective_date=date(2024, 3, 1),
            line=line,
            amount_vnd=5,
            voucher="KB 1",
            note="ghi chú\x00",
        )
    assert refused.value.field == "note"
