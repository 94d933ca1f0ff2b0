"""The balances read model against a brute-force recomputation from the raw movements, for
random histories and random (date, known-at) pairs, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import HOLDER_TOPICS, BudgetLedger, open_ledger
from ledger.domain.audit import history as journal_history
from ledger.domain.errors import HolderEnded, LedgerError
from ledger.domain.holders import Holder, subtree_of, up_edges
from ledger.domain.journal import FIGURES, postings
from ledger.domain.movements import MovementRequest, Succeed
from ledger.domain.values import LineKey
from projections.balances.schema import tables
from projections.history import HistoryQuestion, history_page
from projections.queries import line_balances, subtree_balances
from projections.runner import Projections
from tests.conftest import POSTGRES_ENVVAR
from tests.properties.test_random_histories import FUNDING, days, movement, to_request
from tests.story import register_tree

# A subtree holding one line shares that line's node until a second line enters it: a second
# line of the same holder (here one with a project, "505:P") or a line of a holder registered
# later under a leaf ("5051", an agency under the district 505).
LATE_HOLDER = ("5051", "505")
NEWCOMERS = st.sampled_from(["505:P", "504:P", "TW:P", "5051", "5051:P"])
step = st.one_of(
    movement,
    movement.map(lambda s: s if s[2] is None else (s[0], s[1], "505:P", *s[3:])),
    st.tuples(st.just("adjust"), days, NEWCOMERS, st.none(), st.integers(1, 10**7)),
    st.tuples(
        st.just("allocate"),
        days,
        st.sampled_from(["505", "505:P"]),
        NEWCOMERS,
        st.integers(1, 10**6),
    ),
    st.tuples(st.just("disburse"), days, NEWCOMERS, st.none(), st.integers(1, 10**6)),
    st.tuples(st.just("register"), days, st.none(), st.none(), st.none()),
    # A holder ends into another (refused, as a user's would be, when it cannot).
    st.tuples(
        st.just("succeed"),
        days,
        st.sampled_from(["504", "505", "5051", "110"]),
        st.sampled_from(["49", "505", "504", "12"]),
        st.none(),
    ),
)
QUERY_DAYS = st.integers(min_value=-5, max_value=520).map(
    lambda n: date(2024, 1, 1) + timedelta(days=n)
)


def brute_force(
    journal: list[tuple[int, dict[str, Any]]], as_of: date, known_at: datetime | None
) -> dict[LineKey, dict[str, Any]]:
    lines: dict[LineKey, dict[str, Any]] = defaultdict(
        lambda: {
            **dict.fromkeys(FIGURES, 0),
            "extended_vnd": 0,
            "deadline": None,
        }
    )
    clock = None
    for position, recorded in journal:
        clock = recorded["timestamp"] if clock is None else max(clock, recorded["timestamp"])
        for touched in recorded["lines"]:
            lines[LineKey(**touched["line"])]  # every line touched exists, even with nothing yet
        if known_at is not None and clock > known_at:
            continue
        for posting in postings(position, recorded):
            if posting.effective_date > as_of:
                continue
            for name, change in posting.changes.items():
                lines[posting.line][name] += change
        if date.fromisoformat(recorded["request"]["effective_date"]) > as_of:
            continue
        if recorded["action"] == "extend":
            key = LineKey(**recorded["lines"][0]["line"])
            lines[key]["extended_vnd"] = recorded["amount_vnd"]
            lines[key]["deadline"] = date.fromisoformat(recorded["request"]["until"])
        for touched in recorded["lines"]:
            extension = touched.get("extension")
            if extension is not None:
                key = LineKey(**touched["line"])
                lines[key]["extended_vnd"] = extension["extended_vnd"]
                lines[key]["deadline"] = date.fromisoformat(extension["until"])
    for key, figures in lines.items():
        figures["available_vnd"] = (
            figures["assigned_vnd"]
            - figures["allocated_on_vnd"]
            - figures["disbursed_vnd"]
            - figures["lapsed_vnd"]
            - figures["passed_on_vnd"]
        )
        figures["deadline"] = figures["deadline"] or key.base_deadline
    return lines


def holder_lives(ledger: BudgetLedger) -> Callable[[datetime | None], dict[str, Holder]]:
    """Every holder as known at a time (None: now), replayed from its own events."""
    events = [
        ledger.mapper.to_domain_event(notification)
        for notification in ledger.recorder.select_notifications(
            start=1, limit=100_000, topics=HOLDER_TOPICS
        )
    ]

    def known(at: datetime | None) -> dict[str, Holder]:
        found: dict[Any, Any] = {}
        for event in events:
            if at is None or event.timestamp <= at:
                found[event.originator_id] = event.mutate(found.get(event.originator_id))
        return {holder.code: holder for holder in found.values()}

    return known


def fresh_database(store: str, tmp: str) -> tuple[str, Any]:
    if store == "sqlite":
        return os.path.join(tmp, f"{uuid.uuid4().hex}.sqlite3"), None
    admin = os.environ.get(POSTGRES_ENVVAR)
    if not admin:
        pytest.skip("no PostgreSQL")
    name = f"prop_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name, (admin, name)


def drop(created: Any) -> None:
    if created:
        admin, name = created
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def record_history(ledger: BudgetLedger, steps: list[tuple[Any, ...]]) -> None:
    register_tree(ledger)
    paid: list[str] = []
    for number, step_ in enumerate([*FUNDING, *steps]):
        request = record_step(ledger, number, step_, paid)
        if request is not None and request.action == "disburse":
            paid.append(request.movement_id)


def record_step(
    ledger: BudgetLedger, number: int, step_: tuple[Any, ...], paid: list[str]
) -> MovementRequest | None:
    """Record one ``step``; a holder "505:P" means 505's line of project P. Returns the
    request recorded, None if the ledger refused it."""
    action, day, holder, other, amount = step_
    if action == "register":
        code, parent = LATE_HOLDER
        try:
            ledger.register_holder(code, "Ban QLDA", "agency", parent, actor="t")
        except HolderEnded:
            pass  # its parent ended earlier in this history: nothing is placed under it
        return None
    if action == "succeed":
        try:
            succession = Succeed(
                movement_id=f"s{number}",
                effective_date=day,
                from_holders=(holder,),
                to_holder=other,
                decision="NQ",
            )
            ledger.record(succession, actor="hypothesis")
        except LedgerError:
            pass
        return None
    holder, _, project = (holder or "").partition(":")
    if isinstance(other, str):
        other = other.partition(":")[0]
    try:
        request = to_request(number, (action, day, holder or None, other, amount), paid)
        if project and request.line is not None:
            request = replace(request, line=replace(request.line, project=project))
        ledger.record(request, actor="hypothesis")
    except LedgerError:
        return None
    return request


def check_against_brute_force(
    projections: Projections,
    journal: list[tuple[int, dict[str, Any]]],
    queries: list[tuple[date, int]],
    lives: Callable[[datetime | None], dict[str, Holder]],
) -> None:
    """Every line's figures and the subtrees of every holder, brute force against the read
    model, at each (date, pick of a known-at time)."""
    times = [recorded["timestamp"] for _, recorded in journal]
    for as_of, pick in queries:
        # Known-at times between, on and around the recorded times, and "now".
        known_at = (
            None
            if pick % 5 == 0
            else (times[pick % len(times)] + timedelta(microseconds=(pick % 3) - 1))
        )
        expected = brute_force(journal, as_of, known_at)
        got = {
            LineKey(
                *(row[n] for n in ("program", "kind", "source", "year", "holder", "project"))
            ): row
            for row in line_balances(projections, {}, as_of, known_at)
        }
        assert set(got) == set(expected)
        for key, figures in expected.items():
            assert {n: got[key][n] for n in figures} == figures, (key, as_of, known_at)
        known = lives(known_at)
        for holder in ("TW", "49", "12", "505", "504", LATE_HOLDER[0]):
            # The tree as it stood on the date, as known then, through successions.
            members = subtree_of(up_edges(known, as_of).items(), holder)
            rows = {
                (row["program"], row["kind"], row["source"], row["year"]): row
                for row in subtree_balances(projections, holder, {}, as_of, known_at)
            }
            groups = {
                (k.program, k.kind, k.source, k.year) for k in expected if k.holder in members
            }
            for group in groups | set(rows):
                inside = [
                    f
                    for k, f in expected.items()
                    if k.holder in members and (k.program, k.kind, k.source, k.year) == group
                ]
                for name in ("disbursed_vnd", "lapsed_vnd", "available_vnd"):
                    got_figure = rows[group][name] if group in rows else 0
                    assert got_figure == sum(f[name] for f in inside), (holder, group, name)
                if group in rows:
                    row = rows[group]
                    assert row["available_vnd"] == (
                        row["assigned_vnd"]
                        - row["disbursed_vnd"]
                        - row["lapsed_vnd"]
                        - row["passed_on_vnd"]
                    )


def check_history(
    projections: Projections, journal: list[tuple[int, dict[str, Any]]], limit: int
) -> None:
    """The audit trail's read model, a page of ``limit`` at a time (each page's opening
    amounts from the balances), against the journal read whole."""
    expected = journal_history(journal)
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = history_page(projections, HistoryQuestion(), after=after, limit=limit)
        paged += page.entries
        if page.next is None:
            break
        after = page.next
    assert paged == expected


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(step, min_size=1, max_size=30),
    queries=st.lists(st.tuples(QUERY_DAYS, st.integers(0, 10**6)), min_size=3, max_size=6),
    batch=st.integers(1, 12),
)
def test_read_model_equals_brute_force_at_any_date_and_time(
    store: str,
    tmp_path: Any,
    steps: list[tuple[Any, ...]],
    queries: list[tuple[date, int]],
    batch: int,
) -> None:
    database, created = fresh_database(store, str(tmp_path))
    ledger = open_ledger(database, create=True)
    projections = None
    try:
        record_history(ledger, steps)
        projections = Projections(ledger, database)
        # Small batches, so that subtrees are split after the lines they shared have
        # history: copied at once by a catch-up, after indexing by a rebuild.
        projections.catch_up(batch_events_max=batch)
        journal = list(ledger.journal())
        check_against_brute_force(projections, journal, queries, holder_lives(ledger))
        check_history(projections, journal, batch)
        projections.rebuild(batch_events_max=batch)
        check_against_brute_force(projections, journal, queries, holder_lives(ledger))
        check_history(projections, journal, batch)
    finally:
        if projections is not None:
            projections.close()
        ledger.close()
        drop(created)


def test_catching_up_twice_applies_nothing_twice(
    stored_ledger: BudgetLedger, database: str
) -> None:
    record_history(stored_ledger, [])
    first = Projections(stored_ledger, database)
    second = Projections(stored_ledger, database)
    try:
        assert first.catch_up() > 0
        assert second.catch_up() == 0
        now = datetime.now(UTC)
        rows = line_balances(second, {"holder": "505"}, date(2030, 1, 1), now)
        assert rows[0]["assigned_vnd"] == 5 * 10**6
    finally:
        first.close()
        second.close()


def _crash_while_catching_up(database: str) -> None:
    """In a child process: catch up in small batches and die (SIGKILL, no cleanup) in the
    middle of the fourth batch's transaction, after three batches committed."""
    import signal

    from projections import runner
    from projections.balances.writer import BalancesWriter

    runner.BATCH_EVENTS_MAX = 40
    calls = {"n": 0}
    apply = BalancesWriter.apply

    def dying_apply(self: Any, events: Any) -> None:
        calls["n"] += 1
        apply(self, events)  # rows written, transaction not yet committed
        if calls["n"] == 4:
            os.kill(os.getpid(), signal.SIGKILL)

    BalancesWriter.apply = dying_apply  # type: ignore[method-assign]
    ledger = open_ledger(database)
    Projections(ledger, database).catch_up()


def test_a_crash_mid_catch_up_neither_loses_nor_double_counts(
    stored_ledger: BudgetLedger, database: str
) -> None:
    import multiprocessing

    steps = [
        (
            "disburse",
            date(2024, 3, 1) + timedelta(days=n % 200),
            ("505", "504", "110")[n % 3],
            None,
            1000 + n,
        )
        for n in range(120)
    ]
    record_history(stored_ledger, steps)
    child = multiprocessing.get_context("fork").Process(
        target=_crash_while_catching_up, args=(database,)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -9  # it really died mid-way
    projections = Projections(stored_ledger, database)
    try:
        status = projections.status()[0]
        assert 0 < status["position"] < status["head"]  # three batches had committed
        projections.catch_up()
        as_of, known_at = date(2030, 1, 1), None
        after_crash = line_balances(projections, {}, as_of, known_at)
        projections.rebuild()
        assert line_balances(projections, {}, as_of, known_at) == after_crash
        expected = brute_force(list(stored_ledger.journal()), as_of, known_at)
        assert {
            LineKey(*(r[n] for n in ("program", "kind", "source", "year", "holder", "project"))): r[
                "disbursed_vnd"
            ]
            for r in after_crash
        } == {k: f["disbursed_vnd"] for k, f in expected.items()}
    finally:
        projections.close()


def test_follow_keeps_the_read_model_up_to_date_as_movements_arrive(
    stored_ledger: BudgetLedger, database: str
) -> None:
    import threading

    record_history(stored_ledger, [])
    projections = Projections(stored_ledger, database)
    stop = threading.Event()

    def run_follower() -> None:  # its own connections, in its own thread
        follower_ledger = open_ledger(database)
        follower = Projections(follower_ledger, database)
        try:
            follower.follow(stop, wait_s_max=0.2)
        finally:
            follower.close()
            follower_ledger.close()

    thread = threading.Thread(target=run_follower)
    thread.start()
    try:
        stored_ledger.record(
            to_request(999, ("disburse", date(2024, 5, 5), "504", None, 777), []),
            actor="t",
        )
        head = stored_ledger.head_position()
        deadline = time.monotonic() + 10
        while projections.status()[0]["position"] < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert projections.status()[0]["position"] == head
    finally:
        stop.set()
        thread.join(timeout=10)
        projections.close()


def test_one_follower_at_a_time_the_other_stands_by_and_takes_over(postgres_url: str) -> None:
    """Two followers of one PostgreSQL ledger (two servers, or a server and 'projections
    follow'): one follows, the other is told it stands by, and follows once the first
    stops."""
    import threading

    from api.services import bootstrap

    services = bootstrap(postgres_url, create=True)
    ledger = services.ledger
    record_history(ledger, [])
    stops = [threading.Event(), threading.Event()]
    standing: list[int] = []

    def run(index: int) -> None:
        follower_ledger = open_ledger(postgres_url)
        follower = Projections(follower_ledger, postgres_url)
        try:
            follower.follow(
                stops[index], wait_s_max=0.2, standing_by=lambda: standing.append(index)
            )
        finally:
            follower.close()
            follower_ledger.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in (0, 1)]
    threads[0].start()
    deadline = time.monotonic() + 10
    while services.projections().state().position < ledger.head_position():
        assert time.monotonic() < deadline, "the first follower did not catch up"
        time.sleep(0.05)
    threads[1].start()
    try:
        while not standing:
            assert time.monotonic() < deadline, "the second follower was not told it stands by"
            time.sleep(0.05)
        assert standing == [1]
        stops[0].set()
        threads[0].join(timeout=10)
        ledger.record(
            to_request(998, ("disburse", date(2024, 5, 6), "504", None, 555), []), actor="t"
        )
        head = ledger.head_position()
        deadline = time.monotonic() + 10
        while services.projections().state().position < head:
            assert time.monotonic() < deadline, "the second follower did not take over"
            time.sleep(0.05)
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=10)
        services.close()


def test_a_generation_of_another_layout_is_rebuilt_when_opened(
    stored_ledger: BudgetLedger, database: str
) -> None:
    record_history(stored_ledger, [])
    first = Projections(stored_ledger, database)
    try:
        first.catch_up()
        as_of, known_at = date(2030, 1, 1), None
        before = line_balances(first, {}, as_of, known_at)
        # What a generation built before layouts were numbered looks like.
        first.store.execute(f"DROP TABLE {tables(first.active_generation())['layout']}")
    finally:
        first.close()
    second = Projections(stored_ledger, database)
    try:
        [status] = second.status()
        assert (status["generation"], status["active"], status["position"]) == (2, True, 0)
        assert not second.store.table_exists(tables(1)["days"])
        second.catch_up()
        assert line_balances(second, {}, as_of, known_at) == before
    finally:
        second.close()


def test_catching_up_a_few_movements_at_a_time_equals_a_rebuild(
    stored_ledger: BudgetLedger, database: str
) -> None:
    # Each catch-up is made by a fresh process's view (nothing cached), so every batch
    # loads the latest rows of the days, blocks and eras it touches; movements come in
    # random date order, so many are back-dated across blocks and eras.
    import random

    # Halfway, an agency is registered under the leaf 505, and lines of a project open
    # beside the first ones: subtrees that shared a line's node are split.
    rng = random.Random(5)
    holders = ("TW", "49", "12", "505", "504", "110", LATE_HOLDER[0])
    posting = (*holders, "505:P", "TW:P", "5051:P")
    steps: list[tuple[Any, ...]] = []
    for number in range(60):
        day = date(2024, 1, 2) + timedelta(days=rng.randrange(0, 500))
        holder, other = rng.choice(posting), rng.choice(holders)
        action = rng.choice(["disburse", "disburse", "allocate", "reallocate", "adjust"])
        other_or_none = other if action in ("allocate", "reallocate") else None
        if number == 30:
            steps.append(("register", None, None, None, None))
        steps.append((action, day, holder, other_or_none, rng.randrange(1, 10**5)))
    register_tree(stored_ledger)
    for start in range(0, len(FUNDING) + len(steps), 5):
        for number, step_ in enumerate([*FUNDING, *steps][start : start + 5], start=start):
            record_step(stored_ledger, number, step_, [])
        projections = Projections(stored_ledger, database)
        try:
            projections.catch_up()
        finally:
            projections.close()
    times = [recorded["timestamp"] for _, recorded in stored_ledger.journal()]
    questions = [
        (date(2024, 1, 1) + timedelta(days=rng.randrange(0, 540)), rng.choice([None, *times]))
        for _ in range(12)
    ]
    projections = Projections(stored_ledger, database)
    try:

        def answers() -> list[Any]:
            return [
                (
                    line_balances(projections, {}, as_of, known_at),
                    [subtree_balances(projections, h, {}, as_of, known_at) for h in holders],
                )
                for as_of, known_at in questions
            ]

        caught_up = answers()
        projections.rebuild()
        assert answers() == caught_up
    finally:
        projections.close()


def test_a_leaf_that_gets_a_child_later_has_its_child_in_its_subtree(
    stored_ledger: BudgetLedger, database: str
) -> None:
    # 505 is a leaf with one line, so its subtree shares the line's node. An agency
    # registered under it later receives money and pays: the subtree then needs a node of
    # its own, whose history before the split is the line's. Checked after a catch-up by a
    # fresh process's view and after a rebuild, both in small batches.
    record_history(stored_ledger, [("disburse", date(2024, 3, 1), "505", None, 1000)])
    first = Projections(stored_ledger, database)
    try:
        first.catch_up()  # the subtree of 505 now shares its line's node
    finally:
        first.close()
    later = [
        ("register", None, None, None, None),
        ("allocate", date(2024, 2, 1), "505", "5051", 2000),
        ("disburse", date(2024, 4, 1), "5051", None, 500),
        ("disburse", date(2024, 3, 1), "505", None, 70),
        # Then the agency and a district end into others: the trees of later days differ.
        ("succeed", date(2024, 4, 15), "5051", "505", None),
        ("succeed", date(2024, 4, 20), "504", "49", None),
        ("disburse", date(2024, 2, 1), "504", None, 30),  # late, before 504 ended
    ]
    for number, step_ in enumerate(later, start=100):
        record_step(stored_ledger, number, step_, [])
    assert stored_ledger.get_holder("504").successor == "49"
    assert stored_ledger.get_holder("5051").successor == "505"
    journal = list(stored_ledger.journal())
    queries = [
        (day, pick)
        for day in (
            date(2024, 1, 1),
            date(2024, 2, 15),
            date(2024, 3, 15),
            date(2024, 4, 15),
            date(2024, 5, 1),
        )
        for pick in range(1, len(journal) + 1)
    ]
    projections = Projections(stored_ledger, database)
    try:
        projections.catch_up(batch_events_max=2)
        reader = projections.reader()
        [(_, node, *_)] = reader.subtree_nodes(["505"], {})
        assert node not in {line[0] for line in reader.lines({})}
        check_against_brute_force(projections, journal, queries, holder_lives(stored_ledger))
        projections.rebuild(batch_events_max=2)
        check_against_brute_force(projections, journal, queries, holder_lives(stored_ledger))
        rows = subtree_balances(projections, "505", {}, date(2024, 5, 1), None)
        assert rows[0]["disbursed_vnd"] == 1000 + 500 + 70
    finally:
        projections.close()
