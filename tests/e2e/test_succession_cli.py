"""The 2025 reorganisation at the command line (issue 14): ``units succeed``, ``move``,
``rename``, ``add --date``, ``list --as-of --all`` and ``show``, on SQLite and PostgreSQL; and
rule 1 of a succession (nothing effective on or after its day is recorded on an ended
holder's lines), each way of breaking it tried."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from tests.e2e.cli_story import FAILS, TY, Cli, funded, quang_nam
from tests.e2e.test_readme import README, tour_commands

DAY = "2024-07-01"
DECISION = "NQ 1/2024 sáp nhập"


@pytest.fixture
def books(database: str) -> Cli:
    """Quảng Nam funded, a commune under 505 (20308), and 505 with 10 tỷ paid."""
    cli = funded(quang_nam(Cli(database).init()))
    cli.unit("20308", "Xã A Ting", "commune", parent="505")
    cli.disburse("505", 10 * TY, voucher="KB 1", date="2024-03-01")
    return cli


def state(cli: Cli) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was: the balances, the journal and the
    holders (with the ended ones)."""
    return cli.balance(), cli.history(), cli.json("units", "list", "--all")


def test_a_succession_passes_the_lines_and_is_recorded_once(books: Cli) -> None:
    first = books.json(
        "units", "succeed", "505", "504", "--into", "49", "--date", DAY, "--decision", DECISION
    )
    assert first["holders_ended"] == [
        "504",
        "505",
    ]  # in code order, whatever order they were named in
    assert first["lines_passed"] == 2
    assert first["amount_vnd"] == 240 * TY  # 140 left at 505, 100 at 504
    assert first["replayed"] is False
    again = books.json(
        "units", "succeed", "505", "504", "--into", "49", "--date", DAY, "--decision", DECISION
    )
    assert again["replayed"] is True
    assert again["movement_id"] == first["movement_id"]
    assert {e["movement_id"] for e in books.history() if e["action"] == "succeed"} == {
        first["movement_id"]
    }
    assert len([e for e in books.history() if e["action"] == "succeed"]) == 4  # 2 lines each way
    assert books.balances(as_of=DAY)["505"]["available_vnd"] == 0
    assert books.balances(as_of=DAY)["505"]["passed_on_vnd"] == 140 * TY
    assert "OK" in books.check()
    table = books.out(
        "units", "succeed", "505", "504", "--into", "49", "--date", DAY, "--decision", DECISION
    )
    assert "504, 505 ended on 2024-07-01 into 49; 2 line(s) passed" in table


def test_a_reused_id_with_other_content_is_refused_and_changes_nothing(books: Cli) -> None:
    books.run(
        "units",
        "succeed",
        "505",
        "--into",
        "49",
        "--date",
        DAY,
        "--decision",
        DECISION,
        "--id",
        "s1",
    )
    before = state(books)
    result = books.run(
        "units",
        "succeed",
        "504",
        "--into",
        "49",
        "--date",
        DAY,
        "--decision",
        DECISION,
        "--id",
        "s1",
        expect=1,
    )
    assert "movement-id-reused" in result.output and "from_holders" in result.output
    assert state(books) == before


BREAKS = [
    ("disburse", ["--holder", "505", "--voucher", "KB 9"]),
    ("allocate", ["--from", "49", "--to", "505", "--decision", "QĐ 9"]),
    ("allocate", ["--from", "505", "--to", "20308", "--decision", "QĐ 9"]),
    ("reallocate", ["--from", "505", "--to", "504", "--decision", "QĐ 9"]),
    ("reallocate", ["--from", "504", "--to", "505", "--decision", "QĐ 9"]),
]


@pytest.mark.parametrize("day", [DAY, "2024-09-30"])
@pytest.mark.parametrize(("command", "sides"), BREAKS)
def test_nothing_effective_from_the_day_is_recorded_on_an_ended_holder(
    books: Cli, command: str, sides: list[str], day: str
) -> None:
    books.run("units", "succeed", "505", "--into", "49", "--date", DAY, "--decision", DECISION)
    before = state(books)
    line = ["--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024"]
    result = books.run(command, *line, *sides, "--amount", str(TY), "--date", day, expect=1)
    assert result.output.startswith("Error: refused (holder-ended):")
    assert "holder 505 ended on 2024-07-01" in result.output
    assert "'budget-ledger units show 49'" in result.output  # the successor, named
    assert len(result.output.strip().splitlines()) == 1
    assert state(books) == before


def test_a_movement_before_the_day_is_still_recorded_on_the_ended_holder(books: Cli) -> None:
    books.run("units", "succeed", "505", "--into", "49", "--date", DAY, "--decision", DECISION)
    books.disburse("505", TY, voucher="KB late", date="2024-06-30")
    assert books.balances(as_of=DAY)["505"]["passed_on_vnd"] == 139 * TY


def test_the_tree_as_it_stood_and_a_holders_life(books: Cli) -> None:
    books.run(
        "units", "rename", "49", "--name", "Thành phố Đà Nẵng", "--date", DAY, "--decision", "NQ 2"
    )
    books.run(
        "units", "succeed", "505", "504", "--into", "49", "--date", DAY, "--decision", DECISION
    )
    books.unit("20309", "Xã Mới", "commune", parent="49", date="2024-08-01")
    before = {u["code"]: u for u in books.json("units", "list", "--as-of", "2024-06-30")}
    assert set(before) == {"TW", "49", "504", "505", "20308"}
    assert before["20308"]["parent"] == "505" and before["49"]["name"] == "Tỉnh Quảng Nam"
    after = {u["code"]: u for u in books.json("units", "list", "--as-of", DAY)}
    assert set(after) == {"TW", "49", "20308"}  # 20309 not yet; 505 and 504 ended
    assert after["20308"]["parent"] == "49"  # under its ended parent's successor
    assert after["49"]["name"] == "Thành phố Đà Nẵng"
    every = {u["code"]: u for u in books.json("units", "list", "--as-of", "2024-08-01", "--all")}
    assert every["505"]["ended_on"] == DAY and every["505"]["successor"] == "49"
    assert every["20309"]["since"] == "2024-08-01"
    assert "successor" in books.out("units", "list", "--all")
    life = books.json("units", "show", "49")
    assert [p["code"] for p in life["predecessors"]] == ["504", "505"]
    assert {p["decision"] for p in life["predecessors"]} == {DECISION}
    assert [(c["change"], c["name"]) for c in life["changes"]] == [("renamed", "Thành phố Đà Nẵng")]
    ended = books.json("units", "show", "505")
    assert ended["ended_on"] == DAY and ended["successor"] == "49"
    assert ended["changes"][0]["decision"] == DECISION
    table = books.out("units", "show", "49")
    assert "505 Huyện Đông Giang ended into it" in table and "named Thành phố Đà Nẵng" in table


def test_a_move_places_a_holder_from_its_day(books: Cli) -> None:
    books.run("units", "move", "20308", "--parent", "504", "--date", DAY, "--decision", "QĐ 7")
    assert books.json("units", "list", "--as-of", "2024-06-30")[0]["parent"] == "505"
    assert books.json("units", "list", "--as-of", DAY)[0]["parent"] == "504"
    assert books.json("units", "show", "20308")["changes"][0]["parent"] == "504"


def test_a_new_successor_is_registered_by_the_succession(books: Cli) -> None:
    books.run(
        "units",
        "succeed",
        "505",
        "504",
        "--into",
        "506",
        "--name",
        "Huyện Mới",
        "--level",
        "district",
        "--parent",
        "49",
        "--date",
        DAY,
        "--decision",
        DECISION,
    )
    new = books.json("units", "show", "506")
    assert new["since"] == DAY and new["registered"]["parent"] == "49"
    assert books.balances(as_of=DAY)["506"]["received_vnd"] == 240 * TY


BAD = [
    # (arguments, exit code, what the one line says)
    (["succeed", "505", "--into", "99", "--date", DAY, "--decision", "D"], 1, "name"),
    (["succeed", "505", "--into", "49", "--date", "2024-13-01", "--decision", "D"], 2, "--date"),
    (["succeed", "505", "--into", "505", "--date", DAY, "--decision", "D"], 1, "succeed itself"),
    (["succeed", "49", "--into", "505", "--date", DAY, "--decision", "D"], 1, "sits under 49"),
    (["succeed", "777", "--into", "49", "--date", DAY, "--decision", "D"], 1, "units list"),
    (["succeed", "505", "--into", "49", "--decision", "D"], 2, "--date"),
    (["move", "20308", "--parent", "TW", "--date", DAY, "--decision", "D"], 1, "cannot sit"),
    (["move", "20308", "--parent", "505", "--date", DAY, "--decision", "D"], 1, "already"),
    (["move", "49", "--parent", "20308", "--date", DAY, "--decision", "D"], 1, "cannot"),
    (
        ["rename", "505", "--name", "Huyện Đông Giang", "--date", DAY, "--decision", "D"],
        1,
        "already",
    ),
    (["rename", "505", "--name", "X", "--date", DAY, "--decision", ""], FAILS, "decision"),
    (["succeed", "505", "--into", "49", "--date", DAY, "--decision", "D", "--id", ""], 1, "id"),
    (["show", "777"], 1, "units list"),
    (["list", "--as-of", "yesterday"], 2, "--as-of"),
]


@pytest.mark.parametrize(("args", "code", "says"), BAD)
def test_bad_input_is_one_line_and_changes_nothing(
    books: Cli, args: list[str], code: int, says: str
) -> None:
    before = state(books)
    result = books.run("units", *args, expect=code)
    assert says in result.output
    assert "Traceback" not in result.output
    assert state(books) == before


def test_an_ended_holder_is_neither_moved_renamed_nor_ended_again(books: Cli) -> None:
    books.run("units", "succeed", "505", "--into", "49", "--date", DAY, "--decision", DECISION)
    before = state(books)
    for args in (
        ["move", "505", "--parent", "49", "--date", "2024-08-01", "--decision", "D"],
        ["rename", "505", "--name", "X", "--date", "2024-08-01", "--decision", "D"],
        ["succeed", "505", "--into", "504", "--date", "2024-08-01", "--decision", "D"],
        ["add", "505", "Huyện Khác", "--level", "district", "--parent", "49"],
    ):
        result = books.run("units", *args, expect=1)
        assert "ended on 2024-07-01 into 49" in result.output, args
    assert state(books) == before


def reorganisation_commands() -> list[list[str]]:
    """The commands of README.md's "Recording the 2025 reorganisation"."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Recording the 2025 reorganisation", 1)[1].split("```sh", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    commands = [raw.split("  #", 1)[0] for raw in lines if raw.startswith("budget-ledger ")]
    return [shlex.split(command)[1:] for command in commands]


def test_the_readme_reorganisation_runs_after_the_tour(database: str) -> None:
    cli = Cli(database)
    for args in [*tour_commands(), *reorganisation_commands()]:
        cli.run(*args)
    assert len(reorganisation_commands()) >= 10
    rows = cli.balances(as_of="2025-07-01")
    extended = 150 * TY - 4_250_000_000  # 504's 150 tỷ less the tour's imported payments
    assert rows["504"]["available_vnd"] == 0 and rows["504"]["passed_on_vnd"] == extended
    assert rows["48"]["received_vnd"] == extended
    assert rows["48"]["extended_vnd"] == extended and rows["48"]["deadline"] == "2025-12-31"
    tree = {u["code"]: u for u in cli.json("units", "list", "--as-of", "2026-02-01")}
    assert tree["20308"]["name"] == "Xã A Vương" and tree["20308"]["parent"] == "48"
    assert tree["BQL-505"]["parent"] == "20308"
    assert set(tree) == {"TW", "48", "20308", "BQL-505"}
    assert "OK" in cli.check()


def test_nothing_is_placed_under_an_ended_holder_or_before_a_holder_begins(books: Cli) -> None:
    books.run("units", "succeed", "505", "--into", "49", "--date", DAY, "--decision", DECISION)
    books.unit("20309", "Xã Mới", "commune", parent="49", date="2024-08-01")
    before = state(books)
    under_ended = books.unit("20310", "Xã Khác", "commune", parent="505", expect=1)
    assert "refused (holder-ended): parent: holder 505 does not exist" in under_ended.output
    line = ["--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024"]
    early = books.run(
        "allocate", *line, "--from", "49", "--to", "20309", "--amount", str(TY),
        "--decision", "QĐ 9", "--date", DAY, expect=1,
    )  # fmt: skip
    assert "holder 20309 exists from 2024-08-01" in early.output
    assert len(early.output.strip().splitlines()) == 1
    assert state(books) == before
