"""The demo's recorded times: its movements are recorded when the treasury would have
confirmed them (ledger/demo/clock.py), so ``--known-at`` shows the books as they stood at
the meeting of 17/9/2024 at 14:00, which lacked the payments made before it and confirmed
after it; the log's times never go back and never pass the real time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.application import open_ledger, utc_now
from ledger.demo.clock import START_DAY, office
from ledger.domain.values import VIETNAM_TIME
from tests.e2e.cli_story import Cli

MEETING = "2024-09-17T14:00"  # Vietnam time, as the README asks it
MEETING_AT = datetime(2024, 9, 17, 14, tzinfo=VIETNAM_TIME)


def recorded_times(database: str) -> list[datetime]:
    """The recorded time of every event, in log order (the audit feed's)."""
    ledger = open_ledger(database)
    try:
        _, events = ledger.audit_feed(0, 10**6)
    finally:
        ledger.close()
    return [event["recorded_at"] for event in events]


def disbursed(rows: list[dict[str, Any]]) -> int:
    return sum(row["disbursed_vnd"] for row in rows)


@pytest.fixture
def demo(database: str) -> Cli:
    cli = Cli(database)
    assert "check: OK" in cli.out("demo")
    return cli


def test_the_meetings_books_lack_exactly_the_payments_confirmed_after_it(demo: Cli) -> None:
    asked = {"holder": "12", "subtree": True, "as_of": "2024-09-17"}
    now = demo.balance(**asked)
    then = demo.balance(**asked, known_at=MEETING)
    # Every payment of the province dated by the meeting's day but recorded after it.
    late = [
        entry
        for entry in demo.history(holder="12", subtree=True)
        if date.fromisoformat(entry["effective_date"]) <= date(2024, 9, 17)
        and datetime.fromisoformat(entry["recorded_at"]) > MEETING_AT
    ]
    assert late and {entry["action"] for entry in late} == {"disburse"}
    late_vnd = sum(entry["changes"]["disbursed_vnd"] for entry in late)
    assert disbursed(now) - disbursed(then) == late_vnd > 0
    # The plan was decided in January: the meeting knew all of it.
    assert [row["assigned_vnd"] for row in then] == [row["assigned_vnd"] for row in now]
    # The progress report the meeting read (the README's example) is not empty.
    meeting, today = (
        next(row for row in rows if row["holder"] == "TOTAL")
        for rows in (
            demo.progress(holder="12", as_of="2024-09-17", known_at=MEETING),
            demo.progress(holder="12", as_of="2024-09-17"),
        )
    )
    assert 0 < meeting["disbursed_vnd"] < today["disbursed_vnd"]
    # As README.md ("Two time questions") gives them: seed 000's figures known now, fewer then.
    assert (today["disbursed_vnd"], today["rate_pct"]) == (299_940 * 10**6, 53.94)
    assert (meeting["disbursed_vnd"], meeting["rate_pct"]) == (280_230 * 10**6, 50.39)
    assert (meeting["rate_dtpt_pct"], meeting["rate_sn_pct"]) == (73.55, 27.26)


def test_recorded_times_never_go_back_along_the_log_nor_pass_the_real_time(demo: Cli) -> None:
    times = recorded_times(demo.database)
    assert times == sorted(times)
    assert times[0] == office(START_DAY, 8)  # the ledger's own programs, made by the demo
    assert times[-1] <= utc_now()
    assert all(moment.tzinfo == UTC for moment in times)
    assert "OK" in demo.out("verify") and "OK" in demo.check()
    again = demo.out("demo")  # repeat-safe: nothing recorded, the times stay
    assert "\n0 movements recorded" in again and recorded_times(demo.database) == times


def test_the_demo_records_the_same_times_at_every_load(tmp_path: Path) -> None:
    first, second = (Cli(str(tmp_path / f"demo-{n}.sqlite3")) for n in (1, 2))
    for cli in (first, second):
        cli.run("demo")
    assert recorded_times(first.database) == recorded_times(second.database)


def test_into_a_ledger_already_kept_the_demo_records_no_earlier_time(database: str) -> None:
    cli = Cli(database).init()
    cli.unit("TW", "Trung ương", "central")
    before = recorded_times(database)
    cli.run("demo")
    times = recorded_times(database)
    assert times[: len(before)] == before and times == sorted(times)
