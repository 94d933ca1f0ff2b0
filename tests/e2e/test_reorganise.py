"""``budget-ledger units reorganise``, as a finance officer runs it: the shipped list on the
worked example's Quảng Nam, again (nothing new), and a list with bad rows (every one told,
nothing recorded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.interchange.successors import COLUMNS, SHIPPED
from tests.e2e.cli_story import FAILS, TY, Cli, funded, quang_nam

REORGANISE = ("units", "reorganise", "--date", "2025-07-01", "--decision", "NQ 1670/NQ-UBTVQH15")


@pytest.fixture
def cli(database: str) -> Cli:
    cli = funded(quang_nam(Cli(database).init()))
    cli.extend("504", until="2025-12-31", basis="NQ 111/2024/QH15", date="2025-01-20")
    return cli


def test_the_shipped_list_passes_quang_nams_lines_to_da_nang(cli: Cli) -> None:
    done = cli.out(*REORGANISE, "--shipped")
    assert "succession(s) recorded" in done and "holder(s) registered" in done
    rows = cli.balances(holder="48")
    assert rows["48"]["available_vnd"] == 400 * TY  # 49's 150, 505's 150 and 504's 100
    assert rows["48"]["extended_vnd"] == 100 * TY  # 504's extension passed with its deadline
    assert cli.balances(holder="504")["504"]["passed_on_vnd"] == 100 * TY
    # Nothing effective from the day on an ended holder, told with its successor.
    refused = cli.disburse("504", TY, voucher="KB 9", date="2025-07-02", expect=1)
    assert "holder-ended" in refused.output and "48" in refused.output
    assert "money is conserved" in cli.check()
    again = cli.out(*REORGANISE, "--shipped")
    assert "all already recorded; nothing new was recorded" in again
    # The same list named as a file is the same reorganisation.
    assert "nothing new was recorded" in cli.out(*REORGANISE, str(SHIPPED))


def test_a_list_with_bad_rows_records_nothing_and_names_every_one(cli: Cli, tmp_path: Path) -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    # Row 3 without its new commune's code, row 5 an old commune sent to a second successor.
    cells = lines[2].split(",")
    cells[8] = ""
    lines[2] = ",".join(cells)
    lines.append(
        lines[1].replace(",03388,", ",03408,").replace("Phường Đoàn Kết", "Phường Tân Phong")
    )
    path = tmp_path / "list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = cli.balance(holder="504")
    result = cli.run(*REORGANISE, str(path), expect=1)
    assert "2 bad row(s) in list.csv; nothing was recorded" in result.output
    assert "row 3: new_commune_code:" in result.output
    assert f"row {len(lines)}: old_commune_code: old commune 03386" in result.output
    assert cli.balance(holder="504") == before
    assert "48" not in {row["holder"] for row in cli.balance()}


def test_a_list_is_a_file_or_the_shipped_one_and_has_the_lists_columns(
    cli: Cli, tmp_path: Path
) -> None:
    assert "give FILE or --shipped" in cli.run(*REORGANISE, expect=2).output
    cli.run(*REORGANISE, "--shipped", str(SHIPPED), expect=2)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code,name\n49,Tỉnh Quảng Nam\n", encoding="utf-8")
    result = cli.run(*REORGANISE, str(wrong), expect=FAILS)
    assert result.exit_code == 1 and "the header lacks old_province_code" in result.output
    assert ", ".join(COLUMNS) in result.output


def test_a_dry_run_says_what_the_list_would_do_and_records_nothing(cli: Cli) -> None:
    head = cli.out("digest")
    before = cli.balance()
    tried = cli.out(*REORGANISE, "--shipped", "--dry-run")
    assert "succession(s) would be recorded" in tried and "holder(s) registered" in tried
    assert "Dry run: nothing was recorded." in tried
    assert cli.out("digest") == head
    assert cli.balance() == before
    # The same list then records what the dry run said it would.
    done = cli.out(*REORGANISE, "--shipped")
    assert done.strip() == tried.splitlines()[0].replace("would be recorded", "recorded")
