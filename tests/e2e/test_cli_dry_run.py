"""``--dry-run`` on every write command: checked as the real command, nothing recorded, the
receipt, a movement's preview, and "Dry run: nothing was recorded." last; exit 0."""

from __future__ import annotations

import json

import pytest

from cli import main
from tests.e2e.cli_story import TY, Cli
from tests.e2e.test_cli import tree, worked_example  # noqa: F401 (tree is a fixture)

DONE = "Dry run: nothing was recorded."


@pytest.fixture
def books(tree: Cli) -> Cli:  # noqa: F811 (tests/e2e/test_cli.py's tree)
    worked_example(tree)
    return tree


def state(cli: Cli) -> tuple[str, str]:
    """What a dry run must leave as it was: the balances and the history."""
    return cli.out("balance", "--format", "json"), cli.out("history", "--format", "json")


def test_a_dry_run_payment_prints_receipt_and_preview_and_records_nothing(books: Cli) -> None:
    before = state(books)
    out = books.disburse(
        "505", 5 * TY, voucher="KB 9", date="2024-02-01", id="d1", dry_run=True
    ).output
    lines = out.rstrip("\n").splitlines()
    assert lines[-1] == DONE
    assert "Would be recorded" in out and "d1" in out
    assert "Preview" in out and "available before" in out
    # The back-dated payment shows on its date and every later date of the line's postings.
    for day in ("01/02/2024", "01/03/2024", "01/04/2024", "01/05/2024"):
        assert day in out
    # On 01/04 (after the reallocation) 40 tỷ were left; 35 would be.
    row = next(line for line in lines if "01/04/2024" in line)
    assert "40.000.000.000" in row and "35.000.000.000" in row
    assert "keep it to reverse" not in out
    assert state(books) == before
    assert books.out("history", "--format", "json").count('"d1"') == 0


def test_a_dry_run_in_json_carries_the_preview(books: Cli) -> None:
    before = state(books)
    result = books.disburse(
        "505", 5 * TY, voucher="KB 9", date="2024-02-01", id="d2", dry_run=True, format="json"
    )
    answer = json.loads(result.stdout)
    assert answer["dry_run"] is True and answer["movement_id"] == "d2"
    [line] = answer["preview"]
    assert line["line"]["holder"] == "505"
    assert [d["date"] for d in line["dates"]][0] == "2024-02-01"
    assert all(d["before_vnd"] - d["after_vnd"] == 5 * TY for d in line["dates"])
    assert result.stderr.strip().splitlines()[-1] == DONE
    assert state(books) == before


def test_a_refused_dry_run_is_refused_as_the_real_command(books: Cli) -> None:
    before = state(books)
    # 505 had 150 on 01/02, but a payment of 60 then would leave −20 on 01/04.
    dried = books.disburse("505", 60 * TY, voucher="KB", date="2024-02-01", dry_run=True, expect=1)
    real = books.disburse("505", 60 * TY, voucher="KB", date="2024-02-01", expect=1)
    assert dried.output == real.output
    assert DONE not in dried.output
    malformed = books.disburse("505", "1,5", voucher="KB", dry_run=True, expect=2)
    assert "--amount" in malformed.output
    assert state(books) == before


def test_holders_programs_and_close_year_dry_runs_record_nothing(books: Cli) -> None:
    books.unit("48", "Thành phố Đà Nẵng", "province", parent="TW")
    before = state(books)
    holders = books.out("holders", "list", "--all", "--format", "json")
    programs = books.out("programs", "list", "--format", "json")
    for args in (
        ["holders", "add", "20308", "Xã A Ting", "--level", "commune", "--parent", "505"],
        ["holders", "move", "505", "--parent", "48", "--date", "2024-07-01", "--decision", "N"],
        ["holders", "rename", "505", "--name", "Mới", "--date", "2024-07-01", "--decision", "N"],
        ["holders", "succeed", "504", "--into", "505", "--date", "2024-07-01", "--decision", "N"],
        ["programs", "add", "MTQG2635", "Mới", "--from-year", "2026", "--decision", "NQ 1"],
        ["programs", "ratio", "GNBV", "--year", "2024", "--percent", "10", "--decision", "QĐ 1"],
        ["close-year", "2024", "--date", "2025-02-01"],
    ):
        out = books.out(*args, "--dry-run")
        assert out.rstrip("\n").splitlines()[-1] == DONE, args
    closing = books.out("close-year", "2024", "--date", "2025-02-01", "--dry-run")
    assert "line(s) would lapse" in closing and "Would lapse on" in closing
    assert "Preview" in books.out(
        "holders", "succeed", "504", "--into", "505", "--date", "2024-07-01", "--decision", "N",
        "--dry-run",
    )
    assert books.out("holders", "list", "--all", "--format", "json") == holders
    assert books.out("programs", "list", "--format", "json") == programs
    assert books.out("programs", "ratios", "--year", "2024", "--format", "json") == "[]\n"
    assert state(books) == before
    # Refused as the real commands are.
    below = ["holders", "move", "49", "--parent", "505", "--date", "2024-07-01", "--decision", "N"]
    assert books.run(*below, "--dry-run", expect=1).output == books.run(*below, expect=1).output
    assert state(books) == before


def test_the_option_is_on_every_write_command(books: Cli) -> None:
    for args in (
        ["adjust"], ["allocate"], ["reallocate"], ["disburse"], ["reverse"], ["extend"],
        ["lapse"], ["holders", "add"], ["holders", "move"], ["holders", "rename"],
        ["holders", "succeed"], ["programs", "add"], ["programs", "ratio"], ["close-year"],
    ):
        assert "--dry-run" in books.runner.invoke(main, [*args, "--help"]).output, args
