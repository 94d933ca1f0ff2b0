"""The demo's 2025 and 2026, driven as a finance officer would after ``budget-ledger demo``:
Quảng Nam's mountain districts and Lai Châu reorganised on 1/7/2025 from the shipped list,
a June payment confirmed in July, Đà Nẵng read across the reorganisation (restated 2024
beside 2025), and the merged program's 2026 lines."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_story import Cli

TY = 10**9


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = Cli(str(tmp_path_factory.mktemp("demo") / "demo.sqlite3"))
    assert "check: OK" in cli.out("demo")
    return cli


def total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(row for row in rows if row["holder"] == "TOTAL")


def test_the_districts_and_communes_ended_into_their_successors(demo: Cli) -> None:
    district = demo.json("units", "show", "505")
    assert (district["ended_on"], district["successor"]) == ("2025-07-01", "48")
    assert district["changes"][0]["actor"] == "demo"  # who recorded the reorganisation
    before = {row["code"] for row in demo.json("units", "list", "--as-of", "2025-06-30")}
    after = {row["code"] for row in demo.json("units", "list", "--as-of", "2025-07-01")}
    assert {"49", "504", "505", "110"} <= before and "48" not in before
    assert "48" in after and not {"49", "504", "505", "110"} & after
    lai_chau = [
        r for r in demo.json("units", "list", "--as-of", "2025-07-01") if r["parent"] == "12"
    ]
    assert len(lai_chau) == 38  # NQ 1670/NQ-UBTVQH15: 106 communes into 38


def test_the_june_payment_confirmed_in_july_shrank_what_passed_on(demo: Cli) -> None:
    [line] = demo.balance(holder="505", program="GNBV", kind="DTPT", year=2025)
    assert line["available_vnd"] == 0
    paid = [
        entry
        for entry in demo.history(holder="505", program="GNBV", kind="DTPT", year=2025)
        if entry["voucher"] == "KB-GNBV-DTPT-505-250627"
    ]
    # Two rows of one movement: the payment on its day, and on the day 505 ended, what it
    # had passed on to Đà Nẵng shrinking by the same amount.
    assert [(e["effective_date"], e["changes"]) for e in paid] == [
        ("2025-06-27", {"disbursed_vnd": 800 * 10**6}),
        ("2025-07-01", {"passed_on_vnd": -800 * 10**6}),
    ]
    assert paid[0]["recorded_at"] > demo.json("units", "show", "505")["changes"][0]["recorded_at"]
    assert "OK" in demo.check()


def test_da_nang_reads_across_the_reorganisation(demo: Cli) -> None:
    # 2024 under today's map is Quảng Nam's mountain districts' 2024, as it stood then.
    restated = total(demo.progress(holder="48", as_of="2024-12-31", restated=True))
    as_stood = total(demo.progress(holder="49", as_of="2024-12-31"))
    assert restated["plan_vnd"] == as_stood["plan_vnd"] > 0
    assert restated["disbursed_vnd"] == as_stood["disbursed_vnd"]
    # 2025: the province's own row holds what the districts had; the communes pay their part.
    rows = demo.progress(holder="48", as_of="2025-12-31")
    assert {row["holder"] for row in rows} == {"48", "20443", "20455", "20467", "20476", "TOTAL"}
    assert total(rows)["plan_current_vnd"] == 500 * TY
    # Nam Giang's 2024 funds extended into 2025 passed to Đà Nẵng with their deadline.
    [extended] = demo.balance(holder="48", program="GNBV", kind="DTPT", source="NSTW", year=2024)
    assert extended["deadline"] == "2025-12-31" and extended["extended_vnd"] > 0
    assert total(rows)["plan_extended_vnd"] > 0


def test_the_merged_program_holds_2026(demo: Cli) -> None:
    programs = {row["code"]: row for row in demo.json("programs", "list")}
    assert programs["MTQG2635"]["from_year"] == 2026 and programs["NTM"]["to_year"] == 2025
    rows = demo.balance(holder="20467", program="MTQG2635", year=2026)
    assert rows and rows[0]["disbursed_vnd"] > 0
    ntm_2026 = ("--program", "NTM", "--kind", "DTPT", "--source", "NSTW", "--year", "2026")
    refused = demo.adjust("TW", 1, decision="QĐ thử", date="2026-01-05", line=ntm_2026, expect=1)
    assert "MTQG2635" in refused.output


def test_the_readme_s_reading_across_commands_run_on_the_demo(demo: Cli) -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("### Reading across it, on the demo", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    # ``$DEMO`` names the demo's ledger: here the one the fixture loaded (``run`` adds it).
    commands = [
        line.split("#", 1)[0].replace("$DEMO", "") for line in block.splitlines() if line.strip()
    ]
    assert len(commands) == 6
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "budget-ledger"
        demo.run(*words[1:])


def test_a_report_on_a_holder_that_did_not_exist_that_day_says_so(demo: Cli) -> None:
    ended = demo.run("report", "progress", "--holder", "49", "--as-of", "2025-12-31", expect=1)
    assert "holder 49 ended on 2025-07-01 into 48: report on 48" in ended.output
    early = demo.run("report", "progress", "--holder", "48", "--as-of", "2025-06-30", expect=1)
    assert "holder 48 exists from 2025-07-01" in early.output and "--restated" in early.output
    subtree = demo.run("balance", "--holder", "48", "--subtree", "--as-of", "2025-06-30", expect=1)
    assert "holder 48 exists from 2025-07-01" in subtree.output
    assert len(subtree.output.strip().splitlines()) == 1
