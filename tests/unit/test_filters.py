"""The one reading of a read's filters (ledger/domain/filters.py), shared by the CLI and the API."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.filters import line_filters, read_filters
from ledger.domain.values import LINE_FIELDS, VIETNAM_TIME, LineKey, today_in_vietnam


def test_only_the_fields_given_filter_and_each_is_checked() -> None:
    assert line_filters({"program": "ntm", "year": "2024", "holder": " 49 ", "kind": None}) == {
        "program": "NTM",
        "year": 2024,
        "holder": "49",
    }
    assert line_filters({}) == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [("program", "N-T-M"), ("kind", "ABC"), ("source", "?"), ("year", "1999"), ("holder", "a b")],
)
def test_a_filter_that_no_line_can_have_is_refused_naming_its_field(field: str, value: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        line_filters({field: value})
    assert refused.value.field == field


def test_the_line_fields_are_those_of_a_line_s_identity() -> None:
    assert LINE_FIELDS == ("program", "kind", "source", "year", "holder", "project")
    key = LineKey("NTM", "DTPT", "NSTW", 2024, "49", "P1")
    assert line_filters(key.as_dict()) == key.as_dict()


def test_a_read_counts_today_as_known_now_unless_told() -> None:
    asked = read_filters({"holder": "49"})
    assert (asked.lines, asked.as_of, asked.known_at, asked.subtree) == (
        {"holder": "49"},
        today_in_vietnam(),
        None,
        False,
    )


def test_a_read_takes_text_as_the_cli_gives_it_and_values_as_the_api_does() -> None:
    from_text = read_filters({"as_of": "2024-09-17", "known_at": "2024-09-17T16:30"})
    moment = datetime(2024, 9, 17, 16, 30, tzinfo=VIETNAM_TIME)
    from_values = read_filters({"as_of": date(2024, 9, 17), "known_at": moment, "subtree": True})
    assert (from_text.as_of, from_text.known_at) == (date(2024, 9, 17), moment)
    assert (from_values.as_of, from_values.known_at, from_values.subtree) == (
        date(2024, 9, 17),
        moment,
        True,
    )
    # Text as the command line gives it: day first as offices write it, or ISO.
    assert read_filters({"as_of": "17/09/2024"}).as_of == date(2024, 9, 17)
    with pytest.raises(InvalidInput) as refused:
        read_filters({"as_of": "31/09/2024"})
    assert refused.value.field == "as_of"
