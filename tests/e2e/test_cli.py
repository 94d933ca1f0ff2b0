"""The command line as a finance officer and a script use it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from ledger.application import open_ledger

Run = Callable[..., Result]
LINE = ["--program", "GNBV", "--kind", "DTPT", "--source", "NSTW", "--year", "2024"]
TY = 10**9


@pytest.fixture
def run(database: str) -> Run:
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(main, [*args, "--database", database], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code != 0, result.output
        return result

    invoke("init")
    return invoke


@pytest.fixture
def tree(run: Run) -> Run:
    run("units", "add", "TW", "Trung ương", "--level", "central", "--actor", "sotaichinh")
    run("units", "add", "49", "Tỉnh Quảng Nam", "--level", "province", "--parent", "TW")
    run("units", "add", "505", "Huyện Đông Giang", "--level", "district", "--parent", "49")
    run("units", "add", "504", "Huyện Tây Giang", "--level", "district", "--parent", "49")
    return run


def balances(run: Run, *filters: str) -> dict[str, dict]:
    rows = json.loads(run("balance", *filters, "--format", "json").output)
    return {row["holder"]: row for row in rows}


def worked_example(run: Run) -> None:
    run(
        "adjust",
        *LINE,
        "--holder",
        "TW",
        "--amount",
        "500.000.000.000",
        "--decision",
        "QĐ 1603/QĐ-TTg 11/12/2023",
        "--date",
        "2024-01-02",
        "--id",
        "w1",
    )
    run(
        "allocate",
        *LINE,
        "--from",
        "TW",
        "--to",
        "49",
        "--amount",
        str(400 * TY),
        "--decision",
        "QĐ 1603/QĐ-TTg 11/12/2023",
        "--date",
        "2024-01-05",
        "--id",
        "w2",
    )
    for child, amount in (("505", 150), ("504", 100)):
        run(
            "allocate",
            *LINE,
            "--from",
            "49",
            "--to",
            child,
            "--amount",
            str(amount * TY),
            "--decision",
            "QĐ 95/QĐ-UBND",
            "--date",
            "2024-01-10",
            "--id",
            f"w3-{child}",
        )
    run(
        "disburse",
        *LINE,
        "--holder",
        "505",
        "--amount",
        str(60 * TY),
        "--voucher",
        "KB 1",
        "--date",
        "2024-03-01",
        "--id",
        "w5",
    )
    run(
        "reallocate",
        *LINE,
        "--from",
        "505",
        "--to",
        "504",
        "--amount",
        str(50 * TY),
        "--decision",
        "QĐ 1850/QĐ-UBND",
        "--date",
        "2024-04-01",
        "--id",
        "w6",
        "--actor",
        "kt",
    )
    run(
        "reverse",
        "--of",
        "w5",
        "--amount",
        str(10 * TY),
        "--reason",
        "wrong voucher",
        "--date",
        "2024-05-01",
        "--id",
        "w7",
    )
    run(
        "disburse",
        *LINE,
        "--holder",
        "504",
        "--amount",
        str(120 * TY),
        "--voucher",
        "KB 2",
        "--date",
        "2024-06-01",
        "--id",
        "w8",
    )


def test_a_tour_of_the_worked_example(tree: Run) -> None:
    worked_example(tree)
    rows = json.loads(tree("balance", "--holder", "505", "--format", "json").output)
    assert rows == [
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
            "available_vnd": 50 * TY,
            "extended_vnd": 0,
            "deadline": "2025-01-31",
        }
    ]
    assert balances(tree)["49"]["available_vnd"] == 150 * TY
    assert "OK" in tree("check").output
    table = tree("balance").output
    assert "150.000.000.000" in table


def test_history_is_oldest_first_with_who_why_and_available_after(tree: Run) -> None:
    worked_example(tree)
    entries = json.loads(tree("history", "--holder", "505", "--format", "json").output)
    assert [e["movement_id"] for e in entries] == ["w3-505", "w5", "w6", "w7"]
    assert [e["available_after_vnd"] for e in entries] == [150 * TY, 90 * TY, 40 * TY, 50 * TY]
    assert entries[2]["actor"] == "kt" and entries[2]["decision"] == "QĐ 1850/QĐ-UBND"
    by_decision = json.loads(
        tree("history", "--decision", "qđ 1850/qđ-ubnd", "--format", "json").output
    )
    assert {e["line"]["holder"] for e in by_decision} == {"504", "505"}
    csv_out = tree("history", "--holder", "504", "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("effective_date,recorded_at,actor")


def test_a_refused_movement_exits_non_zero_and_records_nothing(tree: Run) -> None:
    worked_example(tree)
    before = tree("balance", "--format", "json").output
    result = tree(
        "disburse",
        *LINE,
        "--holder",
        "505",
        "--amount",
        str(60 * TY),
        "--voucher",
        "KB 3",
        "--date",
        "2024-02-01",
        ok=False,
    )
    assert "available-never-negative" in result.output and "2024-04-01" in result.output
    for args in (
        ["disburse", *LINE, "--holder", "505", "--amount", "-5", "--voucher", "K"],
        [
            "disburse",
            "--program",
            "XYZ",
            "--kind",
            "DTPT",
            "--source",
            "NSTW",
            "--year",
            "2024",
            "--holder",
            "505",
            "--amount",
            "5",
            "--voucher",
            "K",
        ],
        ["disburse", *LINE, "--holder", "999", "--amount", "5", "--voucher", "K"],
        [
            "disburse",
            *LINE,
            "--holder",
            "505",
            "--amount",
            "5",
            "--voucher",
            "K",
            "--date",
            "2025-02-01",
        ],
        ["allocate", *LINE, "--from", "TW", "--to", "505", "--amount", "5", "--decision", "Q"],
        ["reverse", "--of", "w6", "--reason", "x"],
    ):
        result = tree(*args, ok=False)
        assert "refused" in result.output and "Nothing was recorded" in result.output
    assert (
        "valid codes are NTM"
        in tree(
            "adjust",
            "--program",
            "XYZ",
            "--kind",
            "DTPT",
            "--source",
            "NSTW",
            "--year",
            "2024",
            "--holder",
            "TW",
            "--amount",
            "5",
            "--decision",
            "Q",
            ok=False,
        ).output
    )
    assert tree("balance", "--format", "json").output == before


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
    tree: Run, database: str, args: list[str], option: str
) -> None:
    """Exit code 2 (a malformed command line): the value cannot be read as what the option
    is; one line, naming the option, showing no control character; nothing recorded."""
    ledger = open_ledger(database)
    before = ledger.head_position()
    result = tree(*args, ok=False)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: Invalid value for '{option}': ")
    assert not any(ord(c) < 32 or 0xD800 <= ord(c) < 0xE000 for c in lines[0]), lines
    assert ledger.head_position() == before
    ledger.close()


def test_non_utf8_bytes_on_a_real_command_line_are_refused_in_one_line(
    tree: Run, database: str
) -> None:
    """What the shell passes for --voucher $'V\\xff\\xfe': bytes, not text."""
    command = [str(Path(sys.executable).parent / "budget-ledger"), *PAY, "--database", database]
    command = [part.encode() for part in command] + [b"--voucher", b"V\xff\xfe"]
    result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode().startswith("Error: Invalid value for '--voucher': ")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == b""


def test_plain_and_dot_grouped_amounts_and_notes_with_newlines_are_recorded(
    tree: Run,
) -> None:
    worked_example(tree)
    for amount in ("1.000.000", "1000000"):
        tree(*PAY, "--amount", amount, "--date", "2024-07-01", "--note", "dòng 1\n\tdòng 2")
    paid = json.loads(tree("history", "--holder", "505", "--format", "json").output)
    notes = [entry["note"] for entry in paid if entry["voucher"] == "KB 9"]
    assert notes == ["dòng 1\n\tdòng 2"] * 2


def test_the_same_id_replays_and_a_changed_body_is_refused(tree: Run) -> None:
    worked_example(tree)
    payment = [*LINE, "--holder", "504", "--voucher", "KB 9", "--date", "2024-06-02", "--id", "p9"]
    first = json.loads(tree("disburse", *payment, "--amount", str(TY), "--format", "json").output)
    before = tree("balance", "--format", "json").output
    again = json.loads(tree("disburse", *payment, "--amount", str(TY), "--format", "json").output)
    assert again.pop("replayed") is True and first.pop("replayed") is False
    assert again == first
    result = tree("disburse", *payment, "--amount", str(2 * TY), ok=False)
    assert "movement-id-reused" in result.output and "amount_vnd" in result.output
    assert tree("balance", "--format", "json").output == before


def test_extend_lapse_and_close_year(tree: Run) -> None:
    worked_example(tree)
    tree(
        "extend",
        *LINE,
        "--holder",
        "504",
        "--until",
        "2025-12-31",
        "--amount",
        str(10 * TY),
        "--basis",
        "NQ 111/2024/QH15",
        "--date",
        "2025-01-20",
    )
    assert balances(tree, "--holder", "504")["504"]["deadline"] == "2025-12-31"
    tree(
        "disburse",
        *LINE,
        "--holder",
        "504",
        "--amount",
        str(4 * TY),
        "--voucher",
        "KB 10",
        "--date",
        "2025-03-01",
    )
    lapsed = json.loads(
        tree("lapse", *LINE, "--holder", "505", "--date", "2025-02-01", "--format", "json").output
    )
    assert lapsed["amount_vnd"] == 50 * TY
    out = tree("close-year", "2024", "--date", "2025-02-01").output
    assert "lapsed" in out
    rows = balances(tree)
    assert rows["504"]["available_vnd"] == 6 * TY  # the rest of the extension
    assert rows["504"]["lapsed_vnd"] == 20 * TY
    assert "nothing to lapse" in tree("close-year", "2024", "--date", "2025-02-01").output
    assert "OK" in tree("check").output


def test_units_list_and_misplaced_units(tree: Run) -> None:
    units = json.loads(tree("units", "list", "--format", "json").output)
    assert [u["code"] for u in units] == ["49", "504", "505", "TW"]
    assert units[3]["actor"] == "sotaichinh"
    result = tree(
        "units", "add", "03618", "Xã Mường Than", "--level", "commune", "--parent", "TW", ok=False
    )
    assert "holders-not-related" in result.output


def test_a_missing_ledger_is_not_created_by_accident(tmp_path) -> None:
    result = CliRunner().invoke(main, ["balance", "--database", str(tmp_path / "typo.sqlite3")])
    assert result.exit_code == 1
    assert "budget-ledger init" in result.output
    assert not (tmp_path / "typo.sqlite3").exists()


def test_the_demo_loads_once_and_checks_out(database: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--database", database])
    assert first.exit_code == 0, first.output
    assert "check: OK" in first.output and "Đông Giang" not in first.output
    again = runner.invoke(main, ["demo", "--database", database])
    assert again.exit_code == 0 and "\n0 movements recorded" in again.output


def test_history_filters_by_subtree_actor_and_recorded_time(tree: Run) -> None:
    worked_example(tree)

    def entries(*args: str) -> list[dict]:
        found: list[dict] = json.loads(tree("history", *args, "--format", "json").output)
        return found

    everything = entries()
    province = entries("--holder", "49", "--subtree")
    assert {e["line"]["holder"] for e in province} == {"49", "505", "504"}
    assert len(province) == len([e for e in everything if e["line"]["holder"] != "TW"])
    by_kt = entries("--actor", "KT")
    assert [e["movement_id"] for e in by_kt] == ["w6", "w6"]
    for entry in everything:
        assert (
            entry["available_before_vnd"] + entry["available_change_vnd"]
            == (entry["available_after_vnd"])
        )
    times = sorted(e["recorded_at"] for e in everything)
    middle = times[len(times) // 2]
    later = entries("--recorded-from", middle)
    earlier = entries("--recorded-to", middle)
    assert later and earlier
    assert all(e["recorded_at"] >= middle for e in later)
    assert all(e["recorded_at"] <= middle for e in earlier)
    assert len(later) + len(earlier) >= len(everything)
    tree("history", "--subtree", ok=False)


def test_a_refusal_on_the_command_line_names_the_command_or_option_that_helps(
    tree: Run,
) -> None:
    """The ledger's refusals carry codes and fields; the command line adds its own commands
    and options (the API its links instead: tests/e2e/test_api.py)."""
    worked_example(tree)
    unknown = tree("balance", "--holder", "NOPE", "--subtree", ok=False)
    assert (
        "refused (unknown-holder): holder: no holder has code NOPE; list them with "
        "'budget-ledger units list' or register it with 'budget-ledger units add'. "
        "Nothing was recorded." in unknown.output
    )
    orphan = tree("units", "add", "03618", "Xã Mường Than", "--level", "commune", ok=False)
    assert "parent: a commune holder needs a parent (--parent CODE)" in orphan.output
    late = tree(
        "disburse", *LINE, "--holder", "505", "--amount", str(TY), "--voucher", "KB 9",
        "--date", "2025-03-01", ok=False,
    )  # fmt: skip
    assert "refused (past-deadline)" in late.output
    assert "with its legal basis first (budget-ledger extend)" in late.output
    early = tree("lapse", *LINE, "--holder", "505", "--date", "2024-12-01", ok=False)
    assert "refused (past-deadline)" in early.output
    assert "budget-ledger extend" not in early.output  # an extension would not help
