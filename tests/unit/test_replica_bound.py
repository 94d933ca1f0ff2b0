"""Which replica may serve a read (ledger/storage/replicas.py): only one known to be behind
the primary by ``max_lag_s`` at most, the bound growing with the time since it was checked."""

from __future__ import annotations

import logging
import math
import threading
from types import SimpleNamespace

import psycopg
import pytest

from ledger.storage.replicas import Health, Replica, Replicas


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def replicas(clock: Clock, *healths: Health) -> Replicas[str]:
    found = []
    for number, health in enumerate(healths, start=1):
        store = SimpleNamespace(database=f"postgresql://auditor@replica-{number}.b/ledger")
        replica: Replica[str] = Replica(number, store=store, side=f"replica {number}")  # type: ignore[arg-type]
        replica.health = health
        found.append(replica)
    return Replicas(None, found, max_lag_s=5.0, clock=clock)  # type: ignore[arg-type]


def test_the_bound_grows_from_the_moment_a_replica_was_last_known_caught_up() -> None:
    health = Health(checked_at=100.0, caught_up_at=98.0)
    assert health.lag_s(100.0) == 2.0
    assert health.lag_s(104.5) == 6.5
    assert Health(100.0, None, "does not answer").lag_s(100.0) == math.inf


def test_only_replicas_within_the_bound_serve_and_turns_spread_the_reads() -> None:
    clock = Clock()
    found = replicas(
        clock,
        Health(100.0, 99.0),  # 1 s behind
        Health(100.0, 90.0),  # 10 s behind: lagging
        Health(100.0, None, "does not answer"),
        Health(100.0, 100.0),
    )
    served = [[r.side for r in found.eligible()] for _ in range(2)]
    assert {tuple(sorted(s)) for s in served} == {("replica 1", "replica 4")}
    assert served[0][0] != served[1][0]
    status = {row["replica"]: row["status"] for row in found.status()}
    assert status == {1: "ok", 2: "lagging", 3: "down", 4: "ok"}


def test_a_replica_not_checked_again_falls_out_once_its_bound_passes_the_limit() -> None:
    clock = Clock()
    found = replicas(clock, Health(100.0, 100.0))
    found.replicas[0]._checking.acquire()  # noqa: SLF001 (another thread is checking it)
    assert [r.side for r in found.eligible()] == ["replica 1"]
    clock.now = 105.5
    assert found.eligible() == []


def test_a_read_that_found_a_replica_down_takes_it_out_at_once() -> None:
    clock = Clock()
    found = replicas(clock, Health(100.0, 100.0))
    found.replicas[0].failed(psycopg.OperationalError("connection refused"), clock)
    assert found.eligible() == []
    assert found.status()[0]["reason"] == "does not answer: connection refused"


def test_each_change_of_a_replica_s_state_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    found = replicas(clock, Health(100.0, 100.0))
    replica = found.replicas[0]
    caplog.set_level(logging.INFO, logger="budget_ledger.replicas")
    for _ in range(3):  # each read that finds it down says so; the log, once
        replica.failed(psycopg.OperationalError("connection refused"), clock)
    replica.health = Health(100.0, 91.0)
    replica.note(*found.state(replica, clock.now), found.max_lag_s)
    replica.note(*found.state(replica, clock.now), found.max_lag_s)
    replica.health = Health(100.0, 100.0)
    replica.note(*found.state(replica, clock.now), found.max_lag_s)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "replica 1 (postgresql://auditor@replica-1.b:5432/ledger) does not answer: "
            "connection refused; the primary serves its reads until it is back",
        ),
        (
            "WARNING",
            "replica 1 (postgresql://auditor@replica-1.b:5432/ledger) is 9.0 s behind the "
            "primary, more than --max-lag 5 s; the primary serves its reads until it catches up",
        ),
        (
            "INFO",
            "replica 1 (postgresql://auditor@replica-1.b:5432/ledger) serves reads (0.0 s "
            "behind the primary)",
        ),
    ]


def test_a_replica_whose_read_models_cannot_answer_is_not_ready() -> None:
    clock = Clock()
    found = replicas(clock, Health(100.0, 100.0))
    found.replicas[0].failed(LookupError("its read models are not made yet"), clock)
    assert found.eligible() == []
    assert found.status()[0]["reason"] == "is not ready: its read models are not made yet"


def test_with_a_thread_checking_the_replicas_a_read_never_checks_one_itself() -> None:
    clock = Clock()
    found = replicas(clock, Health(100.0, 100.0))
    stopped = threading.Event()
    stopped.set()  # the thread ends at once: no check is made by anyone
    found.keep_checking(stopped)
    found.stop_checking(timeout=5)
    clock.now = 103.0  # a check is due; a read would ask the replica (whose store is none)
    assert [r.side for r in found.eligible()] == ["replica 1"]  # 3 s behind, within 5
    clock.now = 105.5
    assert found.eligible() == []  # the bound grew past max_lag_s: the primary serves
