"""Reading the official list of successors: every bad row found, with its row and column and
what to do; a good list read into the successions a reorganisation records."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.domain.errors import InvalidInput
from ledger.interchange.reorganise import successions
from ledger.interchange.successors import COLUMNS, read_successors

GOOD = [
    ("12", "Tỉnh Lai Châu", "105", "TP Lai Châu", "03386", "P. Quyết Thắng", "12", "Tỉnh Lai Châu", "03388", "P. Đoàn Kết"),  # noqa: E501
    ("12", "Tỉnh Lai Châu", "105", "TP Lai Châu", "03388", "P. Quyết Tiến", "12", "Tỉnh Lai Châu", "03388", "P. Đoàn Kết"),  # noqa: E501
    ("49", "Tỉnh Quảng Nam", "504", "H. Tây Giang", "20335", "X. A Tiêng", "48", "TP Đà Nẵng", "20337", "X. Tây Giang"),  # noqa: E501
    ("49", "Tỉnh Quảng Nam", "504", "H. Tây Giang", "20336", "X. Lăng", "48", "TP Đà Nẵng", "20336", "X. Lăng"),  # noqa: E501
]  # fmt: skip


def rows(*tuples: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, row, strict=False)) for row in tuples]


def bad_of(*tuples: tuple[str, ...]) -> list[tuple[int, str | None]]:
    _, bad = read_successors(rows(*tuples))
    return [(b.row, b.field) for b in bad]


def test_a_good_list_orders_communes_then_districts_then_provinces() -> None:
    found, bad = read_successors(rows(*GOOD))
    assert bad == []
    steps = successions(found, date(2025, 7, 1), "NQ", bad)
    ordered = [(s.request.from_holders, s.request.to_holder, s.request.name) for s in steps]
    assert ordered == [
        (("03386", "03388"), "03388", None),  # goes on: no registration
        (("20335",), "20337", "X. Tây Giang"),  # new: registered by its succession
        # 20336 is unchanged but for its place: no succession
        (("105",), "12", None),
        (("504",), "48", None),
        (("49",), "48", None),  # 12 goes on
    ]
    assert steps[3].request.parent is None and steps[1].request.parent == "48"
    # Ids follow the content, not the file's order or row numbers.
    again = successions(read_successors(rows(*reversed(GOOD)))[0], date(2025, 7, 1), "NQ", [])
    assert {s.request.movement_id for s in again} == {s.request.movement_id for s in steps}


def test_an_old_commune_with_two_successors_is_a_split_named_on_its_row() -> None:
    split = (*GOOD[0][:8], "03408", "P. Tân Phong")
    _, bad = read_successors(rows(*GOOD, split))
    assert [(b.row, b.field) for b in bad] == [(6, "old_commune_code")]
    assert "03388 on row 2 and to 03408 here" in bad[0].reason
    assert "reallocations" in bad[0].reason


def test_the_same_row_twice_is_one_row() -> None:
    assert bad_of(*GOOD, GOOD[1]) == []


def test_a_unit_must_agree_with_its_first_row() -> None:
    renamed = (*GOOD[1][:3], "Thành phố Lai Châu", *GOOD[1][4:])
    two_provinces = (*GOOD[0][:4], "03390", "P. Mới", "48", "TP Đà Nẵng", "20337", "X. Tây Giang")
    assert bad_of(*GOOD, renamed, two_provinces) == [
        (6, "old_district_code"),
        (7, "old_province_code"),  # Lai Châu passes to 12 on row 2
        (7, "old_district_code"),
    ]


def test_every_bad_cell_of_a_row_is_reported() -> None:
    blank = ("12", "", "105", "TP Lai Châu", "0338 6", "P. X", "12", "Tỉnh Lai Châu", "", "P. Y")
    assert bad_of(*GOOD, blank) == [
        (6, "old_province"),
        (6, "old_commune_code"),
        (6, "new_commune_code"),
    ]  # noqa: E501


def test_a_code_that_ends_is_never_a_successor() -> None:
    # 03386 ends into 03388 (row 2), and a row names it as a new commune.
    again = (
        "12",
        "Tỉnh Lai Châu",
        "105",
        "TP Lai Châu",
        "03387",
        "P. Tân Phong",
        "12",
        "Tỉnh Lai Châu",
        "03386",
        "P. Quyết Thắng",
    )  # noqa: E501
    # 49 ends into 48, and a row names it as a new province.
    back = (
        "48",
        "TP Đà Nẵng",
        "490",
        "Q. Hải Châu",
        "20194",
        "P. Hải Châu",
        "49",
        "Tỉnh Quảng Nam",
        "20194",
        "P. Hải Châu",
    )  # noqa: E501
    found = bad_of(*GOOD, again, back)
    assert (6, "new_commune_code") in found
    assert (7, "new_province_code") in found


def test_a_list_without_rows_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no rows"):
        read_successors([])
