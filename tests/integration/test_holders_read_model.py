"""The holders on any day from the read model, against the holders read from the log: on the
demo's books (registrations, moves, renames and the 2025 reorganisation's ends), the same
rows on every day that matters, with and without the ended holders."""

from __future__ import annotations

from datetime import date

import pytest

from api.services import Services
from projections.queries import holders_on

DAYS = [
    date(2022, 1, 1),
    date(2024, 6, 30),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2026, 11, 30),
]


@pytest.mark.parametrize("ended", [False, True])
def test_the_read_model_gives_the_holders_the_log_gives(demo: Services, ended: bool) -> None:
    for day in DAYS:
        expected = demo.ledger.holders_on(day, ended=ended)
        assert holders_on(demo.projections(), day, ended=ended) == expected, day
    assert any(row["ended_on"] for row in demo.ledger.holders_on(DAYS[-1], ended=True))
