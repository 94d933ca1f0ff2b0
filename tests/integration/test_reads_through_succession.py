"""Reads through the reorganisation (issue 14, "What the books do at a succession", 2 and 4):
subtree balances and the progress report follow the tree as it stood on the read date, or
today's with ``restated``, and agree with the line aggregates; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from api.services import Services
from ledger.application import BudgetLedger
from ledger.domain.errors import InvalidInput
from ledger.domain.movements import Succeed
from ledger.domain.values import LineKey
from projections.progress import progress
from projections.queries import line_balances, subtree_balances
from projections.runner import Projections
from tests.story import LINE, TY, record, worked_example

L25 = LineKey("GNBV", "DTPT", "NSTW", 2025, "TW")
D = date(2025, 7, 1)  # the two-tier local government's first day
AFTER, BEFORE = date(2025, 9, 1), date(2025, 6, 30)
GROUP24, GROUP25 = ("GNBV", "DTPT", "NSTW", 2024), ("GNBV", "DTPT", "NSTW", 2025)


def succeed(
    ledger: BudgetLedger, movement_id: str, olds: tuple[str, ...], into: str, **new: Any
) -> None:
    ledger.record(
        Succeed(
            movement_id=movement_id,
            effective_date=D,
            from_holders=olds,
            to_holder=into,
            decision="NQ 1670/NQ-UBTVQH15",
            **new,
        ),
        actor="tester",
    )


def reorganised(ledger: BudgetLedger) -> datetime:
    """The worked example's 2024, a 2025 in Quảng Nam (49: districts 504, 505) and Lai Châu
    (12: district 110, communes 11001 and 11002), then on 1/7/2025: the two districts end into
    their province; Lai Châu ends into a new province 99, its district too, and the two
    communes into a new commune 99001 under 99. Returns a time before the successions were
    recorded."""
    worked_example(ledger)
    for code, name in [("11001", "Xã Mường Kim"), ("11002", "Xã Tà Mung")]:
        ledger.register_holder(code, name, "commune", "110", actor="tester")
    record(ledger, "allocate", "a24", date(2024, 2, 1), LINE, counterpart="12", amount_vnd=50 * TY)
    record(
        ledger,
        "allocate",
        "b24",
        date(2024, 2, 5),
        LINE.with_holder("12"),
        counterpart="110",
        amount_vnd=40 * TY,
    )
    record(ledger, "disburse", "c24", date(2024, 5, 1), LINE.with_holder("110"), amount_vnd=15 * TY)
    record(ledger, "adjust", "a", date(2025, 1, 2), L25, amount_vnd=1000 * TY)
    record(ledger, "allocate", "b", date(2025, 1, 5), L25, counterpart="49", amount_vnd=300 * TY)
    record(ledger, "allocate", "c", date(2025, 1, 5), L25, counterpart="12", amount_vnd=100 * TY)
    for movement_id, giver, taker, amount in [
        ("d", "49", "504", 100),
        ("e", "49", "505", 100),
        ("f", "12", "110", 80),
        ("g", "110", "11001", 30),
        ("h", "110", "11002", 20),
    ]:
        record(
            ledger,
            "allocate",
            movement_id,
            date(2025, 1, 10),
            L25.with_holder(giver),
            counterpart=taker,
            amount_vnd=amount * TY,
        )
    record(ledger, "disburse", "i", date(2025, 3, 1), L25.with_holder("504"), amount_vnd=40 * TY)
    record(ledger, "disburse", "j", date(2025, 3, 1), L25.with_holder("11001"), amount_vnd=10 * TY)
    before_successions = datetime.now(UTC)
    succeed(ledger, "s1", ("504", "505"), "49")
    succeed(ledger, "s2", ("12",), "99", name="Tỉnh Lai Châu (mới)", level="province", parent="TW")
    succeed(ledger, "s3", ("110",), "99")
    succeed(
        ledger,
        "s4",
        ("11001", "11002"),
        "99001",
        name="Xã Mường Kim (mới)",
        level="commune",
        parent="99",
    )
    record(ledger, "disburse", "k", date(2025, 8, 1), L25.with_holder("49"), amount_vnd=30 * TY)
    record(ledger, "disburse", "l", date(2025, 8, 1), L25.with_holder("99001"), amount_vnd=5 * TY)
    return before_successions


def subtree(
    projections: Projections,
    holder: str,
    as_of: date,
    known_at: datetime | None = None,
    *,
    restated: bool = False,
) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = subtree_balances(projections, holder, {}, as_of, known_at, restated=restated)
    return {(row["program"], row["kind"], row["source"], row["year"]): row for row in rows}


def figures(row: dict[str, Any]) -> tuple[int, ...]:
    """(assigned, disbursed, passed on, received, available) of a row, in tỷ."""
    names = ("assigned_vnd", "disbursed_vnd", "passed_on_vnd", "received_vnd", "available_vnd")
    return tuple(row[name] // TY for name in names)


def progress_rows(
    projections: Projections, holder: str, as_of: date, **more: Any
) -> dict[str, tuple[int, int]]:
    rows = progress(
        projections, as_of=as_of, known_at=more.pop("known_at", None), holder=holder, **more
    )
    return {row["holder"]: (row["plan_vnd"] // TY, row["disbursed_vnd"] // TY) for row in rows}


@pytest.fixture
def books(services: Services) -> tuple[Services, datetime]:
    return services, reorganised(services.ledger)


def test_a_province_s_subtree_is_the_same_before_and_after_its_districts_end_into_it(
    books: tuple[Services, datetime],
) -> None:
    services, _ = books
    projections = services.current_projections()
    # The districts' money passed to the province: inside its subtree, so its plan is what
    # entered from the centre, nothing passed or received, and it paid all any of them paid.
    assert figures(subtree(projections, "49", BEFORE)[GROUP25]) == (300, 40, 0, 0, 260)
    assert figures(subtree(projections, "49", AFTER)[GROUP25]) == (300, 70, 0, 0, 230)
    assert figures(subtree(projections, "49", AFTER)[GROUP24]) == (400, 170, 0, 0, 230)
    # Line by line, the districts hold nothing from D; the province received what they had.
    lines = {row["holder"]: row for row in line_balances(projections, {"year": 2025}, AFTER, None)}
    assert figures(lines["504"]) == (100, 40, 60, 0, 0)
    assert figures(lines["505"]) == (100, 0, 100, 0, 0)
    assert figures(lines["49"]) == (460, 30, 0, 160, 230)
    assert lines["49"]["allocated_on_vnd"] == 200 * TY
    # Progress: from D the districts no longer exist; what they had and paid counts in the
    # province's own row, and the total is the union's.
    assert progress_rows(projections, "49", AFTER) == {
        "49": (300, 70),
        "TOTAL": (300, 70),
    }
    assert progress_rows(projections, "49", BEFORE) == {
        "49": (100, 0),
        "504": (100, 40),
        "505": (100, 0),
        "TOTAL": (300, 40),
    }


def test_a_merged_commune_under_a_new_province_counts_its_predecessors(
    books: tuple[Services, datetime],
) -> None:
    services, _ = books
    projections = services.current_projections()
    assert figures(subtree(projections, "99", AFTER)[GROUP25]) == (100, 15, 0, 0, 85)
    assert figures(subtree(projections, "99001", AFTER)[GROUP25]) == (50, 15, 0, 0, 35)
    # The old province ended: its subtree is itself, which passed everything on.
    assert figures(subtree(projections, "12", AFTER)[GROUP25]) == (20, 0, 20, 0, 0)
    assert figures(subtree(projections, "12", BEFORE)[GROUP25]) == (100, 10, 0, 0, 90)
    # Before D the new holders did not exist: a read of them then says so.
    with pytest.raises(InvalidInput, match="holder 99 exists from"):
        subtree(projections, "99", BEFORE)
    assert progress_rows(projections, "99", AFTER) == {
        "99": (50, 0),
        "99001": (50, 15),
        "TOTAL": (100, 15),
    }
    assert progress_rows(projections, "TW", AFTER) == {
        "TW": (600, 0),
        "49": (300, 70),
        "99": (100, 15),
        "TOTAL": (1000, 85),
    }


def test_restated_reads_any_date_through_today_s_tree(books: tuple[Services, datetime]) -> None:
    services, _ = books
    projections = services.current_projections()
    end_2024 = date(2024, 12, 31)
    assert figures(subtree(projections, "99", end_2024, restated=True)[GROUP24]) == (
        50,
        15,
        0,
        0,
        35,
    )
    with pytest.raises(InvalidInput, match="holder 99 exists from"):
        subtree(projections, "99", end_2024)
    assert figures(subtree(projections, "99", BEFORE, restated=True)[GROUP25]) == (
        100,
        10,
        0,
        0,
        90,
    )
    # 2024 against 2025 under the new map: Lai Châu's 2024 in the new province's row.
    assert progress_rows(projections, "TW", end_2024, restated=True) == {
        "TW": (50, 0),
        "49": (400, 170),
        "99": (50, 15),
        "TOTAL": (500, 185),
    }
    assert progress_rows(projections, "TW", end_2024) == {
        "TW": (50, 0),
        "49": (400, 170),
        "12": (50, 15),
        "TOTAL": (500, 185),
    }


def test_a_read_as_known_before_the_successions_walks_the_tree_as_it_stood_then(
    books: tuple[Services, datetime],
) -> None:
    services, known_at = books
    projections = services.current_projections()
    assert figures(subtree(projections, "12", AFTER, known_at)[GROUP25]) == (100, 10, 0, 0, 90)
    assert subtree(projections, "99", AFTER, known_at) == {}
    assert progress_rows(projections, "49", AFTER, known_at=known_at) == {
        "49": (100, 0),
        "504": (100, 40),
        "505": (100, 0),
        "TOTAL": (300, 40),
    }
    assert progress_rows(projections, "TW", AFTER, known_at=known_at) == {
        "TW": (600, 0),
        "49": (300, 40),
        "12": (100, 10),
        "TOTAL": (1000, 50),
    }


def test_the_read_model_agrees_with_the_lines_through_the_successions(
    books: tuple[Services, datetime],
) -> None:
    services, _ = books
    ledger = services.ledger
    projections = services.current_projections()
    lines = {line.key: line for line in ledger.list_lines()}
    got = {
        LineKey(*(row[n] for n in ("program", "kind", "source", "year", "holder", "project"))): row
        for row in line_balances(projections, {}, date(2030, 1, 1), None)
    }
    assert set(got) == set(lines)
    for key, line in lines.items():
        assert {name: got[key][name] for name in line.figures()} == line.figures(), key
    # A subtree on a day holds the lines of the holders of the tree of that day.
    for day in (date(2024, 12, 31), BEFORE, D, AFTER):
        for holder in ("TW", "49", "504", "12", "110", "99", "99001", "11001"):
            if not ledger.get_holder(holder).begun_by(day):
                continue  # a read of a holder before it existed is refused (tested above)
            inside = ledger.subtree(holder, day)
            expected = sum(
                line.available_on(day) for key, line in lines.items() if key.holder in inside
            )
            rows = subtree(projections, holder, day)
            assert sum(row["available_vnd"] for row in rows.values()) == expected, (holder, day)


def test_a_holder_moved_to_another_parent_counts_under_each_on_its_days(services: Services) -> None:
    ledger = services.ledger
    worked_example(ledger)
    record(ledger, "allocate", "a", date(2024, 2, 1), LINE, counterpart="12", amount_vnd=60 * TY)
    record(
        ledger,
        "allocate",
        "b",
        date(2024, 2, 5),
        LINE.with_holder("12"),
        counterpart="110",
        amount_vnd=40 * TY,
    )
    record(ledger, "disburse", "c", date(2024, 3, 1), LINE.with_holder("110"), amount_vnd=10 * TY)
    before_move = datetime.now(UTC)
    ledger.move_holder("110", "49", date(2024, 6, 1), decision="NQ 1/2024", actor="tester")
    projections = services.current_projections()
    may, june = date(2024, 5, 31), date(2024, 6, 1)
    assert figures(subtree(projections, "12", may)[GROUP24]) == (60, 10, 0, 0, 50)
    assert figures(subtree(projections, "49", may)[GROUP24]) == (400, 50, 0, 0, 350)
    # From the move, 110 and the money it holds count under 49; 12 keeps what it kept.
    assert figures(subtree(projections, "12", june)[GROUP24]) == (20, 0, 0, 0, 20)
    assert figures(subtree(projections, "49", june)[GROUP24]) == (440, 180, 0, 0, 260)
    assert figures(subtree(projections, "12", june, before_move)[GROUP24]) == (60, 10, 0, 0, 50)
    assert progress_rows(projections, "49", june) == {
        "49": (150, 0),
        "504": (150, 120),
        "505": (100, 50),
        "110": (40, 10),
        "TOTAL": (440, 180),
    }


def test_extended_money_that_moves_is_counted_once_before_and_after_a_succession(
    services: Services,
) -> None:
    # The issue's bug: extend 504's line by 100, reallocate 60 of it to 505, 505 pays 60:
    # Quảng Nam has 100 of extended capital, 60% disbursed (not 160 and 37.5%); and still
    # once the districts have ended into the province, their extended money with them.
    ledger = services.ledger
    worked_example(ledger)
    record(ledger, "adjust", "x1", date(2024, 2, 1), LINE, amount_vnd=300 * TY)
    record(ledger, "allocate", "x2", date(2024, 2, 2), LINE, counterpart="49", amount_vnd=300 * TY)
    record(
        ledger,
        "allocate",
        "x3",
        date(2024, 2, 3),
        LINE.with_holder("49"),
        counterpart="504",
        amount_vnd=200 * TY,
    )
    tay_giang = LINE.with_holder("504")
    until = date(2025, 12, 31)
    record(ledger, "extend", "x4", date(2025, 1, 20), tay_giang, until=until, amount_vnd=100 * TY)
    record(
        ledger,
        "reallocate",
        "x5",
        date(2025, 3, 1),
        tay_giang,
        counterpart="505",
        amount_vnd=60 * TY,
    )
    record(ledger, "disburse", "x6", date(2025, 4, 1), LINE.with_holder("505"), amount_vnd=60 * TY)
    projections = services.current_projections()

    def extended(as_of: date) -> dict[str, tuple[int, int, float | None]]:
        rows = progress(projections, as_of=as_of, known_at=None, holder="49")
        return {
            row["holder"]: (
                row["plan_extended_vnd"] // TY,
                row["disbursed_extended_vnd"] // TY,
                row["rate_extended_pct"],
            )
            for row in rows
        }

    assert extended(date(2025, 5, 1))["TOTAL"] == (100, 60, 60.0)
    succeed(ledger, "s", ("504", "505"), "49")
    projections = services.current_projections()
    after = extended(AFTER)
    assert after["TOTAL"] == (100, 60, 60.0)
    # The districts no longer exist: their extended money (504's 40 left, passed on; 505's
    # 60, paid) counts in the province's own row.
    assert after["49"] == (100, 60, 60.0)
    assert "505" not in after and "504" not in after
    [line] = line_balances(projections, {"holder": "49", "year": 2024}, AFTER, None)
    assert (line["extended_vnd"], line["deadline"]) == (40 * TY, until)
