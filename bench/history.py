"""Benchmark: the audit trail from its read model as the log grows.

At each checkpoint (10,000, 100,000 and 1,000,000 events by default) it brings the read
models up to date and prints p50 and p99 of the first page (100 entries, as GET /history
gives) of:
  - one line's history (a random district's line: it allocates to its communes),
  - one province's history for a month (its subtree, movements recorded in a random month),
with the size of the answers (entries on the page, entries matching in all), then the
growth of each p50 from the first checkpoint to the last (target: p50 <= 20 ms at 1,000,000
events, growth <= 2x from 10,000). Up to ``--journal-max`` events it also times the journal
scan the read model replaced (ledger.domain.audit.history) on the same questions, as the peer.

How the log grows (``--grow``):
  - provinces (the default): province after province, each with its own plan (bench/asof.py's
    plan, entering at the province: 3 programs x 2 kinds x 2 sources x 2023-2025 over
    2 districts of 24 communes each, about 8,000 events a province). The questions ask only
    about provinces already complete, so a line's history and a province's month keep about
    the same size from 10,000 to 1,000,000 events while the log, the holders and every
    month's movements overall grow 100x.
  - passes: bench/asof.py's generator (two provinces of 8 districts of 43 communes, its plan
    recorded again pass after pass at the same recording times): a province's month holds
    more movements the longer the log, so the answer grows with it.

Usage:
  .venv/bin/python bench/history.py [--postgres URL | --sqlite] [--grow provinces|passes]
      [--checkpoints 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.asof import (  # noqa: E402
    generate,
    plan,
    province_tree,
    record_until,
    timed,
    tree,
)
from bench.pg import bench_database  # noqa: E402
from ledger.application import BudgetLedger, open_ledger  # noqa: E402
from ledger.domain.audit import history as journal_history  # noqa: E402
from ledger.domain.movements import MovementRequest  # noqa: E402
from projections.history import HistoryQuestion, history, history_page  # noqa: E402
from projections.runner import Projections  # noqa: E402

QUERIES = 100
PAGE = 100
DISTRICTS, COMMUNES = 2, 24  # a province's shape when the log grows by provinces


def grow_by_provinces(
    ledger: BudgetLedger, events_target: int, rng: random.Random, state: dict[str, Any]
) -> int:
    """Record movements, a province's whole plan after another, until the log holds
    ``events_target`` events; ``state["complete"]`` lists the provinces whose plan is all
    recorded. Returns the count."""
    if "complete" not in state:
        ledger.register_holder("TW", "Trung ương", "central", None, actor="bench")
        state.update(complete=[], provinces=[], queue=iter(()))

    def next_province() -> Iterator[tuple[datetime, MovementRequest]]:
        if state["provinces"]:
            state["complete"].append(state["provinces"][-1])
        holders = province_tree(f"{100 + len(state['provinces'])}", DISTRICTS, COMMUNES)
        for code, name, level, parent in holders:
            ledger.register_holder(code, name, level, parent, actor="bench")
        province = holders[0][0]
        state["provinces"].append(province)
        generated = plan(random.Random(rng.random()), holders, root=province)
        return iter(
            [
                (at, dataclasses.replace(r, movement_id=f"{province}-{r.movement_id}"))
                for at, r in sorted(generated, key=lambda pair: pair[0])
            ]
        )

    return record_until(ledger, events_target, state, next_province)


def asked(args: argparse.Namespace, state: dict[str, Any]) -> list[str]:
    """The provinces the questions may name: the complete ones when the log grows by
    provinces (if none is complete yet, the one being recorded)."""
    if args.grow == "provinces":
        return state["complete"] or state["provinces"][-1:]
    return [code for code, _, level, _ in tree() if level == "province"]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def line_question(
    ledger: BudgetLedger, provinces: list[str], rng: random.Random
) -> Callable[[], HistoryQuestion]:
    # A district's line (its code: its province's and two digits): it allocates down to
    # its communes, so its history is long.
    keys = [key for key in ledger.list_line_keys() if key.holder[:-2] in provinces]

    def ask() -> HistoryQuestion:
        return HistoryQuestion(line=rng.choice(keys))

    return ask


def province_question(provinces: list[str], rng: random.Random) -> Callable[[], HistoryQuestion]:
    # The plan's years are 2023-2025, recorded up to 20 days after the movements' dates.
    months = [(year, month) for year in (2023, 2024, 2025) for month in range(1, 13)]

    def ask() -> HistoryQuestion:
        year, month = rng.choice(months)
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return HistoryQuestion(
            lines={"holder": rng.choice(provinces)},
            subtree=True,
            recorded_from=start,
            recorded_to=end,
        )

    return ask


def journal_answer(ledger: BudgetLedger, question: HistoryQuestion) -> list[dict[str, Any]]:
    """The same question by reading the whole journal (what history did before)."""
    if question.line is not None:
        key = question.line
        entries = journal_history(ledger.journal(), **key.as_dict())
        return [entry for entry in entries if entry["line"] == key.as_dict()][:PAGE]
    lines = dict(question.lines)
    holders = ledger.subtree(lines.pop("holder"))
    return journal_history(
        ledger.journal(),
        holders=holders,
        recorded_from=question.recorded_from,
        recorded_to=question.recorded_to,
        **lines,
    )[:PAGE]


def measure(
    ledger: BudgetLedger,
    projections: Projections,
    provinces: list[str],
    rng: random.Random,
    journal: bool,
) -> dict[str, float]:
    p50s = {}
    asks = {
        "a district's line": line_question(ledger, provinces, rng),
        "province, a month": province_question(provinces, rng),
    }
    for name, ask in asks.items():
        questions = [ask() for _ in range(QUERIES)]
        sizes = []

        def one(questions: list[HistoryQuestion] = questions, sizes: list[int] = sizes) -> None:
            page = history_page(projections, questions.pop(), after=None, limit=PAGE)
            sizes.append(len(page.entries))

        samples = timed(one, QUERIES)
        matched = [len(history(projections, ask())) for _ in range(20)]
        p50s[name] = statistics.median(samples)
        line = (
            f"  {name}: p50 {p50s[name] * 1000:.1f} ms, p99 {percentile(samples, 0.99) * 1000:.1f}"
            f" ms (entries per page: median {statistics.median(sizes):.0f}; matching in all:"
            f" median {statistics.median(matched):.0f})"
        )
        if journal:
            peer = [ask() for _ in range(5)]
            scans = timed(lambda peer=peer: journal_answer(ledger, peer.pop()), 5)
            line += (
                f"; the journal scan: p50 {statistics.median(scans) * 1000:.0f} ms"
                f" ({statistics.median(scans) / p50s[name]:.0f}x)"
            )
        print(line)
    return p50s


@contextmanager
def store(args: argparse.Namespace) -> Iterator[str]:
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="budget-ledger-bench.") as folder:
            yield os.path.join(folder, "ledger.sqlite3")
        return
    with bench_database(args.postgres) as (url, _):
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--sqlite", action="store_true", help="A SQLite file instead.")
    parser.add_argument("--grow", choices=("provinces", "passes"), default="provinces")
    parser.add_argument("--checkpoints", default="10000,100000,1000000")
    parser.add_argument("--journal-max", type=int, default=100_000)
    args = parser.parse_args()
    checkpoints = [int(n) for n in args.checkpoints.split(",")]
    with store(args) as database:
        open_ledger(database, create=True).close()
        os.environ["AGGREGATE_CACHE_MAXSIZE"] = ""
        ledger = open_ledger(database)
        projections = Projections(ledger, database)
        rng, state = random.Random(7), {}
        grow = grow_by_provinces if args.grow == "provinces" else generate
        print(
            f"{'SQLite' if args.sqlite else 'PostgreSQL'}; the log grows by {args.grow};"
            f" {QUERIES} questions of each kind"
        )
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        for target in checkpoints:
            started = time.perf_counter()
            events = grow(ledger, target, rng, state)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            projections.catch_up()
            provinces = asked(args, state)
            print(
                f"{events} events (generated in {generated:.0f} s; read models caught up in "
                f"{time.perf_counter() - started:.0f} s); questions about {len(provinces)}"
                " provinces"
            )
            journal = events <= args.journal_max
            last = measure(ledger, projections, provinces, random.Random(target), journal)
            first = first or last
        for name, p50 in last.items():
            print(
                f"growth of {name} p50 from {checkpoints[0]} to {checkpoints[-1]} events: "
                f"{p50 / first[name]:.2f}x (target <= 2x; p50 target <= 20 ms at 1,000,000)"
            )
        projections.close()
        ledger.close()


if __name__ == "__main__":
    main()
