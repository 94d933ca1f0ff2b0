"""Dates and times as Vietnamese offices write them, day first (17/09/2024), on the command
line beside ISO; the HTTP API stays ISO. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.e2e.cli_story import LINE, TY, Cli, funded, quang_nam


@pytest.fixture
def cli(database: str) -> Cli:
    return funded(quang_nam(Cli(database).init()))


def test_every_date_option_takes_dd_mm_yyyy_as_the_iso_date_it_means(cli: Cli) -> None:
    cli.disburse("505", 10 * TY, voucher="KB 1", date="17/09/2024", id="pay-1")
    cli.extend("505", until="31/12/2025", basis="NQ 111/2024/QH15", date="20/1/2025")
    history = cli.history(holder="505")
    assert [e["effective_date"] for e in history if e["movement_id"] == "pay-1"] == ["2024-09-17"]
    extension = [e for e in history if e["action"] == "extend"]
    assert extension[0]["effective_date"] == "2025-01-20"
    assert extension[0]["until"] == "2025-12-31"
    # --as-of and --known-at, day first, answer what the ISO forms answer.
    for as_of, known_at in (("16/09/2024", None), ("17/9/2024", "17/09/2099 23:59")):
        iso = "2024-09-16" if as_of.startswith("16") else "2024-09-17"
        assert cli.balance(holder="505", as_of=as_of, known_at=known_at) == cli.balance(
            holder="505", as_of=iso, known_at=known_at and "2099-09-17T23:59"
        )
    assert cli.balance(holder="505", as_of="17/09/2024")[0]["disbursed_vnd"] == 10 * TY
    assert cli.balance(holder="505", as_of="16/09/2024")[0]["disbursed_vnd"] == 0
    report = cli.progress(holder="49", as_of="17/09/2024")
    assert report == cli.progress(holder="49", as_of="2024-09-17")


def test_a_time_written_day_first_is_vietnam_time(cli: Cli) -> None:
    recorded = cli.history(holder="505")[0]["recorded_at"]
    assert cli.balance(holder="505", known_at="01/01/2000 00:00")[0]["assigned_vnd"] == 0
    assert cli.balance(holder="505", known_at="31/12/2099 23:59")[0]["assigned_vnd"] == 150 * TY
    # The same instant, written both ways, sees the same books.
    day, time = recorded[:10], recorded[11:16]
    year, month, dom = day.split("-")
    assert cli.balance(holder="505", known_at=f"{dom}/{month}/{year} {time}") == cli.balance(
        holder="505", known_at=f"{day}T{time}"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [("--as-of", "31/02/2024"), ("--as-of", "2024-13-01"), ("--known-at", "31/02/2024 10:00")],
)
def test_a_wrong_date_is_one_line_naming_the_option_and_both_forms(
    cli: Cli, option: str, value: str
) -> None:
    result = cli.run("balance", "--holder", "505", option, value, expect=2)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert option in lines[0] and value in lines[0]
    assert "dd/mm/yyyy" in lines[0]
    assert "2024-09-17" in lines[0]
    assert "Traceback" not in result.output


def test_a_write_with_a_wrong_date_records_nothing(cli: Cli) -> None:
    before = cli.history(holder="505")
    result = cli.run(
        "disburse", *LINE, "--holder", "505", "--amount", "1000", "--voucher", "KB 9",
        "--date", "30/02/2024", expect=2,
    )  # fmt: skip
    assert "--date" in result.output and "dd/mm/yyyy" in result.output
    assert cli.history(holder="505") == before


def test_the_api_takes_iso_dates_only(cli: Cli) -> None:
    from api import create_app

    secret = cli.token("auditor", "viewer").output.strip().splitlines()[-1]
    app = create_app(cli.database)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    answer = client.get("/balances?holder=505&as_of=17/09/2024", headers=headers)
    assert answer.status_code == 422
    assert "YYYY-MM-DD" in answer.get_data(as_text=True)
    assert client.get("/balances?holder=505&as_of=2024-09-17", headers=headers).status_code == 200
