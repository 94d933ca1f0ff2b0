"""The command line as a finance officer and a script use it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from ledger.application import open_ledger
from tests.e2e.cli_story import FAILS, LINE, TY, Cli, quang_nam


@pytest.fixture
def tree(database: str) -> Cli:
    return quang_nam(Cli(database).init(), actor="sotaichinh")


def worked_example(cli: Cli) -> None:
    """docs/worked-example.md through the command line."""
    cli.adjust(
        "TW", "500.000.000.000", decision="QĐ 1603/QĐ-TTg 11/12/2023", date="2024-01-02", id="w1"
    )
    cli.allocate(
        "TW", "49", 400 * TY, decision="QĐ 1603/QĐ-TTg 11/12/2023", date="2024-01-05", id="w2"
    )
    for child, amount in (("505", 150), ("504", 100)):
        cli.allocate(
            "49", child, amount * TY, decision="QĐ 95/QĐ-UBND", date="2024-01-10", id=f"w3-{child}"
        )
    cli.disburse("505", 60 * TY, voucher="KB 1", date="2024-03-01", id="w5")
    cli.reallocate(
        "505", "504", 50 * TY, decision="QĐ 1850/QĐ-UBND", date="2024-04-01", id="w6", actor="kt"
    )
    cli.reverse("w5", 10 * TY, reason="wrong voucher", date="2024-05-01", id="w7")
    cli.disburse("504", 120 * TY, voucher="KB 2", date="2024-06-01", id="w8")


def test_a_tour_of_the_worked_example(tree: Cli) -> None:
    worked_example(tree)
    assert tree.balance(holder="505") == [
        {
            "program": "GNBV",
            "kind": "DTPT",
            "source": "NSTW",
            "year": 2024,
            "holder": "505",
            "project": None,
            "assigned_vnd": 100 * TY,
            "allocated_on_vnd": 0,
            "disbursed_vnd": 50 * TY,
            "lapsed_vnd": 0,
            "passed_on_vnd": 0,
            "received_vnd": 0,
            "available_vnd": 50 * TY,
            "extended_vnd": 0,
            "deadline": "2025-01-31",
        }
    ]
    assert tree.balances()["49"]["available_vnd"] == 150 * TY
    assert "OK" in tree.check()
    table = tree.out("balance")
    assert "150.000.000.000" in table


def test_history_is_oldest_first_with_who_why_and_available_after(tree: Cli) -> None:
    worked_example(tree)
    entries = tree.history(holder="505")
    assert [e["movement_id"] for e in entries] == ["w3-505", "w5", "w6", "w7"]
    assert [e["available_after_vnd"] for e in entries] == [150 * TY, 90 * TY, 40 * TY, 50 * TY]
    assert entries[2]["actor"] == "kt" and entries[2]["decision"] == "QĐ 1850/QĐ-UBND"
    by_decision = tree.history(decision="qđ 1850/qđ-ubnd")
    assert {e["line"]["holder"] for e in by_decision} == {"504", "505"}
    csv_out = tree.out("history", "--holder", "504", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("effective_date,recorded_at,actor")


def test_a_refused_movement_exits_non_zero_and_records_nothing(tree: Cli) -> None:
    worked_example(tree)
    before = tree.out("balance", "--format", "json")
    # 505 had 150 on 01/02, but a payment of 60 then would leave −20 on 01/04.
    result = tree.disburse("505", 60 * TY, voucher="KB 3", date="2024-02-01", expect=1)
    assert "available-never-negative" in result.output and "2024-04-01" in result.output
    unknown_program = ("--program", "XYZ", "--kind", "DTPT", "--source", "NSTW", "--year", "2024")
    for refused in (
        lambda: tree.disburse("505", -5, voucher="K", expect=FAILS),
        lambda: tree.disburse("505", 5, voucher="K", line=unknown_program, expect=FAILS),
        lambda: tree.disburse("999", 5, voucher="K", expect=FAILS),  # no such holder
        lambda: tree.disburse("505", 5, voucher="K", date="2025-02-01", expect=FAILS),  # late
        lambda: tree.allocate("TW", "505", 5, decision="Q", expect=FAILS),  # not its child
        lambda: tree.reverse("w6", reason="x", expect=FAILS),  # not a payment
    ):
        result = refused()
        assert "refused" in result.output and "Nothing was recorded" in result.output
    result = tree.adjust("TW", 5, decision="Q", line=unknown_program, expect=FAILS)
    assert "refused (program-not-valid): program: no program has code XYZ" in result.output
    assert "for 2024 the valid programs are: DTTS" in result.output
    assert tree.out("balance", "--format", "json") == before


PAY = ["disburse", *LINE, "--holder", "505", "--voucher", "KB 9", "--amount", "5"]
MALFORMED = [
    # (arguments, the option the one-line error names)
    ([*PAY, "--amount", "1.000,000"], "--amount"),  # two grouping characters
    ([*PAY, "--amount", "1,5"], "--amount"),  # a decimal comma: đồng have no fractions
    ([*PAY, "--amount", "1,000,000"], "--amount"),
    ([*PAY, "--amount", "１２３"], "--amount"),  # full-width digits
    ([*PAY, "--amount", "١٢٣"], "--amount"),  # Arabic-Indic digits
    ([*PAY, "--amount", "9" * 9999], "--amount"),  # past Python's int conversion limit
    ([*PAY, "--voucher", "V\udcff\udcfe"], "--voucher"),  # $'V\xff\xfe': not UTF-8
    ([*PAY, "--voucher", "KB\x009"], "--voucher"),
    ([*PAY, "--note", "ghi chú\x1b[2J"], "--note"),
    ([*PAY, "--actor", "bob\n\x1b[31mevil"], "--actor"),  # into the audit trail
    ([*PAY, "--date", ""], "--date"),  # empty is a mistake, not today
    ([*PAY, "--date", "2024-02-30"], "--date"),
    ([*PAY, "--date", "２０２４-07-01"], "--date"),
    ([*PAY, "--year", "２０２４"], "--year"),
    (["extend", *LINE, "--holder", "505", "--until", "", "--basis", "NQ 1"], "--until"),
    (["close-year", "2024", "--date", ""], "--date"),
    (["balance", "--known-at", "0001-01-01T00:00"], "--known-at"),  # was OverflowError
    (["balance", "--known-at", "9999-12-31T23:59:59-12:00"], "--known-at"),
    (["balance", "--as-of", ""], "--as-of"),
    (["balance", "--year", "２０２４"], "--year"),
    (["history", "--recorded-from", "0001-01-01"], "--recorded-from"),
    (["history", "--actor", "bob\x00"], "--actor"),
    (["report", "progress", "--known-at", "0001-01-01T00:00"], "--known-at"),
    (["units", "add", "20308", "Xã\x00A Ting", "--level", "commune", "--parent", "505"], "NAME"),
    (["serve", "--port", "８０８０"], "--port"),  # int() reads full-width digits
]


@pytest.mark.parametrize(("args", "option"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_a_malformed_value_is_one_line_naming_its_option_and_records_nothing(
    tree: Cli, database: str, args: list[str], option: str
) -> None:
    """Exit code 2 (a malformed command line): the value cannot be read as what the option
    is; one line, naming the option, showing no control character; nothing recorded."""
    ledger = open_ledger(database)
    before = ledger.head_position()
    result = tree.run(*args, expect=2)
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Invalid value for '{option}': ")
    assert not any(ord(c) < 32 or 0xD800 <= ord(c) < 0xE000 for c in lines[0]), lines
    assert ledger.head_position() == before
    ledger.close()


def test_non_utf8_bytes_on_a_real_command_line_are_refused_in_one_line(
    tree: Cli, database: str
) -> None:
    """What the shell passes for --voucher $'V\\xff\\xfe': bytes, not text."""
    command = [str(Path(sys.executable).parent / "budget-ledger"), *PAY, "--database", database]
    command = [part.encode() for part in command] + [b"--voucher", b"V\xff\xfe"]
    result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().startswith("Error: Invalid value for '--voucher': ")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == b""


def test_plain_and_dot_grouped_amounts_and_notes_with_newlines_are_recorded(
    tree: Cli,
) -> None:
    worked_example(tree)
    for amount in ("1.000.000", "1000000"):
        tree.disburse("505", amount, voucher="KB 9", date="2024-07-01", note="dòng 1\n\tdòng 2")
    paid = tree.history(holder="505")
    notes = [entry["note"] for entry in paid if entry["voucher"] == "KB 9"]
    assert notes == ["dòng 1\n\tdòng 2"] * 2


def test_the_same_id_replays_and_a_changed_body_is_refused(tree: Cli) -> None:
    worked_example(tree)

    def pay(amount: int, expect: int = 0) -> str:
        return tree.disburse(
            "504", amount, voucher="KB 9", date="2024-06-02", id="p9", format="json", expect=expect
        ).output

    first = json.loads(pay(TY))
    before = tree.out("balance", "--format", "json")
    again = json.loads(pay(TY))
    assert again.pop("replayed") is True and first.pop("replayed") is False
    assert again == first
    result = pay(2 * TY, expect=FAILS)
    assert "movement-id-reused" in result and "amount_vnd" in result
    assert tree.out("balance", "--format", "json") == before


def test_extend_lapse_and_close_year(tree: Cli) -> None:
    worked_example(tree)
    tree.extend("504", "2025-12-31", 10 * TY, basis="NQ 111/2024/QH15", date="2025-01-20")
    assert tree.balances(holder="504")["504"]["deadline"] == "2025-12-31"
    tree.disburse("504", 4 * TY, voucher="KB 10", date="2025-03-01")
    lapsed = json.loads(tree.lapse("505", date="2025-02-01", format="json").output)
    assert lapsed["amount_vnd"] == 50 * TY
    out = tree.close_year(2024, date="2025-02-01").output
    assert "lapsed" in out
    rows = tree.balances()
    assert rows["504"]["available_vnd"] == 6 * TY  # the rest of the extension
    assert rows["504"]["lapsed_vnd"] == 20 * TY
    assert "nothing to lapse" in tree.close_year(2024, date="2025-02-01").output
    assert "OK" in tree.check()


def test_units_list_and_misplaced_units(tree: Cli) -> None:
    units = tree.json("units", "list")
    assert [u["code"] for u in units] == ["49", "504", "505", "TW"]
    assert units[3]["actor"] == "sotaichinh"
    result = tree.unit("03618", "Xã Mường Than", "commune", parent="TW", expect=FAILS)
    assert "holders-not-related" in result.output


def test_holders_is_the_command_and_units_still_works_for_scripts(database: str) -> None:
    cli = Cli(database).init()
    cli.run("holders", "add", "TW", "Trung ương", "--level", "central")
    cli.run("units", "add", "49", "Tỉnh Quảng Nam", "--level", "province", "--parent", "TW")
    listed = cli.out("holders", "list", "--format", "json")
    assert [h["code"] for h in json.loads(listed)] == ["49", "TW"]
    assert cli.out("units", "list", "--format", "json") == listed
    commands = CliRunner().invoke(main, ["--help"]).output.split("Commands:")[1]
    assert "holders" in commands
    assert "units" not in commands


def test_a_missing_ledger_is_not_created_by_accident(tmp_path: Path) -> None:
    typo = Cli(str(tmp_path / "typo.sqlite3"))
    result = typo.run("balance", expect=1)
    assert "budget-ledger init" in result.output
    assert not (tmp_path / "typo.sqlite3").exists()


READING_COMMANDS = [
    ["balance"],
    ["history"],
    ["check"],
    ["verify"],
    ["digest"],
    ["units", "list"],
    ["tokens", "list"],
    ["projections", "status"],
    ["export", "--format", "csv"],
]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("given", ["option", "environment"])
def test_every_command_opens_the_database_it_is_given_and_refuses_one_without_a_ledger(
    tmp_path: Path, command: list[str], given: str
) -> None:
    ledger = str(tmp_path / "ledger.sqlite3")
    typo = str(tmp_path / "typo.sqlite3")
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--database", ledger]).exit_code == 0

    def invoke(database: str) -> Result:
        if given == "option":
            return runner.invoke(main, [*command, "--database", database])
        return runner.invoke(main, command, env={"BUDGET_LEDGER_DATABASE": database})

    opened = invoke(ledger)
    assert opened.exit_code == 0, opened.output
    refused = invoke(typo)
    assert refused.exit_code == 1, refused.output
    assert f"there is no ledger at {typo}" in refused.output
    assert not Path(typo).exists()


def test_the_demo_loads_once_and_checks_out(database: str) -> None:
    cli = Cli(database)
    first = cli.out("demo")
    assert "check: OK" in first and "Đông Giang" not in first
    again = cli.out("demo")
    assert "\n0 movements recorded" in again


def test_history_filters_by_subtree_actor_and_recorded_time(tree: Cli) -> None:
    worked_example(tree)
    everything = tree.history()
    province = tree.history(holder="49", subtree=True)
    assert {e["line"]["holder"] for e in province} == {"49", "505", "504"}
    assert len(province) == len([e for e in everything if e["line"]["holder"] != "TW"])
    by_kt = tree.history(actor="KT")
    assert [e["movement_id"] for e in by_kt] == ["w6", "w6"]
    for entry in everything:
        assert (
            entry["available_before_vnd"] + entry["available_change_vnd"]
            == (entry["available_after_vnd"])
        )
    times = sorted(e["recorded_at"] for e in everything)
    middle = times[len(times) // 2]
    later = tree.history(recorded_from=middle)
    earlier = tree.history(recorded_to=middle)
    assert later and earlier
    assert all(e["recorded_at"] >= middle for e in later)
    assert all(e["recorded_at"] <= middle for e in earlier)
    assert len(later) + len(earlier) >= len(everything)
    tree.run("history", "--subtree", expect=FAILS)


def test_a_refusal_on_the_command_line_names_the_command_or_option_that_helps(
    tree: Cli,
) -> None:
    """The ledger's refusals carry codes and fields; the command line adds its own commands
    and options (the API its links instead: tests/e2e/test_api.py)."""
    worked_example(tree)
    unknown = tree.run("balance", "--holder", "NOPE", "--subtree", expect=FAILS)
    assert (
        "refused (unknown-holder): holder: no holder has code NOPE; list them with "
        "'budget-ledger units list' or register it with 'budget-ledger units add'.\n"
        in unknown.output
    )
    # A read refused has nothing to say about recording; a write refused does.
    assert "Nothing was recorded" not in unknown.output
    orphan = tree.run("units", "add", "03618", "Xã Mường Than", "--level", "commune", expect=FAILS)
    assert "parent: a commune holder needs a parent (--parent CODE)" in orphan.output
    late = tree.run(
        "disburse", *LINE, "--holder", "505", "--amount", str(TY), "--voucher", "KB 9",
        "--date", "2025-03-01", expect=FAILS,
    )  # fmt: skip
    assert "refused (past-deadline)" in late.output
    assert "with its legal basis first (budget-ledger extend)" in late.output
    early = tree.run("lapse", *LINE, "--holder", "505", "--date", "2024-12-01", expect=FAILS)
    assert "refused (past-deadline)" in early.output
    assert "budget-ledger extend" not in early.output  # an extension would not help


@pytest.mark.parametrize("command", [["balance"], ["init"], ["history"]])
def test_a_file_that_is_not_a_ledger_is_refused_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    """A --database path to a file that is not SQLite (a typo naming a spreadsheet, say):
    one line saying so, never a traceback, and the file untouched."""
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(b"PK\x03\x04 not a database")
    result = Cli(str(path)).run(*command, expect=1)
    assert "is not a SQLite database" in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert path.read_bytes() == b"PK\x03\x04 not a database"
