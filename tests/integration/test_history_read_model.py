"""The audit trail's read model against the journal it replaces reading: on the demo's books
(allocations, payments, reversals, extensions, lapses, the 2025 reorganisation's successions)
every question gives exactly the entries ``ledger.domain.audit.history`` computes by reading
the whole journal, in the same order, a page at a time or whole, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from api.services import Services
from cli import main
from ledger.domain.audit import history as journal_history
from ledger.domain.errors import UnknownHolder
from projections.history import HistoryQuestion, history, history_page

DECISION = (
    "NQ 202/2025/QH15; NQ 1670/NQ-UBTVQH15 (Lai Châu) và NQ của UBTVQH về xã, phường TP Đà Nẵng"
)


QUESTIONS: list[dict[str, Any]] = [
    {},
    {"lines": {"holder": "12"}, "subtree": True},
    {"lines": {"holder": "49"}, "subtree": True, "decision": DECISION.lower()},
    {"lines": {"program": "GNBV", "year": 2025}},
    {"lines": {"program": "DTTS", "kind": "DTPT", "source": "NSTW", "year": 2024, "holder": "108"}},
    {"decision": f"  {DECISION.upper()} "},
    {"actor": "DEMO"},
    {"actor": "nobody"},
    {
        "recorded_from": datetime(2024, 6, 1, tzinfo=UTC),
        "recorded_to": datetime(2024, 6, 30, 23, 59, tzinfo=UTC),
    },
    {"lines": {"holder": "12"}, "subtree": True, "within": {"12", "108", "505"}},
    # Holders and recording times: the times are then the entries' own copy.
    {
        "lines": {"holder": "12"},
        "subtree": True,
        "recorded_from": datetime(2024, 6, 1, tzinfo=UTC),
        "recorded_to": datetime(2024, 9, 30, 23, 59, tzinfo=UTC),
    },
    {"within": {"108", "505"}, "recorded_to": datetime(2024, 6, 30, 23, 59, tzinfo=UTC)},
]


def _from_journal(services: Services, asked: dict[str, Any]) -> list[dict[str, Any]]:
    ledger = services.ledger
    arguments = dict(asked)
    lines = dict(arguments.pop("lines", {}))
    if arguments.pop("subtree", False):
        arguments["holders"] = ledger.subtree(lines.pop("holder"))
    within = arguments.pop("within", None)
    entries = journal_history(ledger.journal(), **arguments, **lines)
    if within is not None:
        entries = [entry for entry in entries if entry["line"]["holder"] in within]
    return entries


@pytest.mark.parametrize("asked", QUESTIONS, ids=lambda asked: ",".join(asked) or "all")
def test_the_read_model_answers_as_the_journal_does(demo: Services, asked: dict[str, Any]) -> None:
    expected = _from_journal(demo, asked)
    question = HistoryQuestion(**{"lines": {}, **asked})
    assert history(demo.projections(), question) == expected
    if asked.get("actor") != "nobody":
        assert expected, "a question that matches nothing proves little"


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_pages_put_together_are_the_whole_answer(demo: Services, limit: int) -> None:
    question = HistoryQuestion(lines={"holder": "12"}, subtree=True)
    whole = history(demo.projections(), question)
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = history_page(demo.projections(), question, after=after, limit=limit)
        assert len(page.entries) <= limit
        paged += page.entries
        if page.next is None:
            break
        after = page.next
    assert paged == whole


def test_a_page_continues_where_it_stopped_after_a_write(demo: Services) -> None:
    """A page's key is the last entry's place in the trail: a payment recorded between two
    pages, dated after every entry, comes on a later page, and nothing is shown twice."""
    projections = demo.projections()
    question = HistoryQuestion(lines={"holder": "20476"})
    first = history_page(projections, question, after=None, limit=5)
    assert first.next is not None
    result = CliRunner().invoke(
        main,
        [
            "disburse", "--database", demo.database, "--program", "MTQG2635", "--kind", "DTPT",
            "--source", "NSTW", "--year", "2026", "--holder", "20476", "--amount", "1000",
            "--voucher", "KB-PAGE-1", "--date", "2026-11-30", "--actor", "tester",
            "--id", "page-write-1",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    projections.catch_up()
    rest: list[dict[str, Any]] = []
    after = first.next
    while after is not None:
        page = history_page(projections, question, after=after, limit=5)
        rest += page.entries
        after = page.next
    assert first.entries + rest == history(projections, question)
    assert rest[-1]["movement_id"] == "page-write-1"
    assert rest[-1]["available_after_vnd"] == rest[-1]["available_before_vnd"] - 1000


def test_an_unknown_holder_is_named(demo: Services) -> None:
    with pytest.raises(UnknownHolder, match="no holder has code 9999"):
        history(demo.projections(), HistoryQuestion(lines={"holder": "9999"}, subtree=True))
