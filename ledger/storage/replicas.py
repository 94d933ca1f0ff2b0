"""Reads from PostgreSQL streaming replicas: how far behind the primary each replica is, and
which may serve a read (docs/decisions.md §33, docs/deployment.md).

Replication itself is PostgreSQL's (``pg_basebackup -R``, Patroni or a managed service); the
ledger only reads from a replica and never writes to it. What it must know is how stale a
replica may be, as a bound it can trust, not an estimate:

- Every REPLICA_CHECK_S a process asks the primary how far its WAL goes (``p``), then the
  replica how far it has replayed (``r``). If ``r >= p`` the replica held, when asked,
  everything committed on the primary before the question: it was caught up at that moment.
- Otherwise the replica is missing commits made after the last one it replayed, so it is at
  most ``now - pg_last_xact_replay_timestamp()`` behind (the primary's commit time, read
  against the replica's clock: the servers' clocks are kept by NTP).
- With the primary unreachable nothing new can be committed: a replica that has replayed
  all it received is caught up.

A replica is then at most ``now - caught_up_at`` behind at any later moment (a process that
has not asked for a while knows less, and the bound grows). A read goes to a replica only
while that bound is within ``max_lag_s``; so a token revoked on the primary is refused by a
replica as soon as it has replayed the revocation, and never later than ``max_lag_s``.
A replica that does not answer, or is not a standby (promoted, or a primary named by
mistake), serves nothing until a later check finds it sound.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ledger.domain.errors import InvalidInput
from ledger.storage.availability import DOES_NOT_ANSWER, database_errors, unavailable_reason
from ledger.storage.config import describe, is_postgres
from ledger.storage.settings import REPLICA_CHECK_S
from ledger.storage.sql import ViewStore

# The insert position: it holds every commit made so far, even one not yet written out
# (synchronous_commit off), where pg_current_wal_lsn(), the write position, may not.
# With the cluster's system identifier: a streaming replica's is its primary's (a promotion
# keeps it), so a database of another cluster, whose WAL positions mean nothing here, is
# never taken for a replica.
SYSTEM = "(SELECT system_identifier FROM pg_control_system())"
PRIMARY_WAL = f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0'), {SYSTEM}"
REPLICA_WAL = (
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'),"
    " pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'),"
    " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()),"
    f" {SYSTEM}"
)

Clock = Callable[[], float]
log = logging.getLogger("budget_ledger.replicas")


@dataclass(frozen=True)
class Health:
    """What the last check of a replica found. ``caught_up_at``: the latest moment (on the
    process's monotonic clock) the replica is known to have held everything the primary had
    committed; None when it is down (``reason`` says why)."""

    checked_at: float
    caught_up_at: float | None
    reason: str = ""

    @property
    def up(self) -> bool:
        return self.caught_up_at is not None

    def lag_s(self, now: float) -> float:
        """How far behind the primary the replica may be at ``now``, at most (inf: down)."""
        if self.caught_up_at is None:
            return math.inf
        return max(0.0, now - self.caught_up_at)


NEVER_CHECKED = Health(checked_at=-math.inf, caught_up_at=None, reason="not checked yet")


def measure(primary: ViewStore, replica: ViewStore, clock: Clock = time.monotonic) -> Health:
    """Ask the primary, then the replica (see the module's docstring). The health is dated
    when the answers are in (a replica that does not answer takes a connection's wait, and
    is then not asked again at once); the moment it was caught up, when the primary was
    asked."""
    health = _measure(primary, replica, clock)
    return dataclasses.replace(health, checked_at=clock())


def _measure(primary: ViewStore, replica: ViewStore, clock: Clock) -> Health:
    asked_at = clock()
    primary_wal: float | None = None
    primary_system = None
    try:
        row = primary.one(PRIMARY_WAL)
        if row is not None:
            primary_wal, primary_system = float(row[0]), row[1]
    except database_errors():
        pass
    try:
        found = replica.one(REPLICA_WAL)
    except database_errors() as error:
        return Health(asked_at, None, f"{DOES_NOT_ANSWER}: {unavailable_reason(error)}")
    assert found is not None
    standby, replayed, received, since_commit_s, system = found
    if primary_system is not None and system != primary_system:
        return Health(
            asked_at,
            None,
            f"is not a replica of this primary: its cluster's system identifier is {system}, "
            f"the primary's {primary_system}",
        )
    if not standby:
        return Health(asked_at, None, "is not a standby (promoted, or not a replica)")
    if replayed is None:
        return Health(asked_at, None, "has replayed nothing yet")
    replayed = float(replayed)
    if primary_wal is not None and replayed >= primary_wal:
        return Health(asked_at, asked_at)
    if primary_wal is None and received is not None and replayed >= float(received):
        return Health(asked_at, asked_at)
    if since_commit_s is None:
        return Health(asked_at, None, "has replayed no transaction yet")
    return Health(asked_at, asked_at - max(0.0, float(since_commit_s)))


def check_read_databases(database: str, read_databases: Sequence[str], max_lag_s: float) -> None:
    """Read databases are PostgreSQL replicas of a PostgreSQL primary: InvalidInput if not."""
    if not read_databases:
        return
    if not is_postgres(database):
        raise InvalidInput(
            "read databases are streaming replicas of a PostgreSQL primary, and the ledger "
            "here is a SQLite file; give --database the primary's postgresql:// URL, or drop "
            "--read-database",
            field="read_database",
        )
    for url in read_databases:
        if not is_postgres(url):
            raise InvalidInput(
                f"{url!r} is not a postgresql:// URL; a read database is a PostgreSQL replica",
                field="read_database",
            )
    if not max_lag_s > 0:
        raise InvalidInput(f"max lag {max_lag_s:g} s must be more than 0 seconds", field="max_lag")


S = TypeVar("S")


class Replica(Generic[S]):
    """One read database: its store, what serves reads from it (``side``), its health."""

    def __init__(self, number: int, store: ViewStore, side: S) -> None:
        self.number = number
        self.store = store
        self.side = side
        self.health = NEVER_CHECKED
        self._checking = threading.Lock()
        self._noted = ""  # the state last logged (``note``)

    @property
    def label(self) -> str:
        return f"replica {self.number}"

    def describe(self) -> str:
        return f"{self.label} ({describe(self.store.database)})"

    def failed(self, error: BaseException, clock: Clock = time.monotonic) -> None:
        """A read found it not answering, or its read models not ready (``error`` is not a
        database's): it serves nothing until a check finds it back."""
        if isinstance(error, database_errors()):
            reason = f"{DOES_NOT_ANSWER}: {unavailable_reason(error)}"
        else:
            reason = f"is not ready: {error}"
        self.health = Health(clock(), None, reason)
        self.note("down", None)

    def note(self, state: str, lag_s: float | None, max_lag_s: float = 0.0) -> None:
        """Log the replica's ``state`` (ok, lagging, down) when it is not the last one
        logged: an operator reads when a replica stopped serving reads, why, and when it
        served them again, once a change, not once a request."""
        if state == self._noted:
            return
        self._noted = state
        if state == "down":
            log.warning(
                "%s %s; the primary serves its reads until it is back",
                self.describe(),
                self.health.reason,
            )
        elif state == "lagging":
            log.warning(
                "%s is %s s behind the primary, more than --max-lag %g s; the primary serves "
                "its reads until it catches up",
                self.describe(),
                lag_s,
                max_lag_s,
            )
        else:
            log.info("%s serves reads (%s s behind the primary)", self.describe(), lag_s)


class Replicas(Generic[S]):
    """A primary's read databases and which of them may serve a read now."""

    def __init__(
        self,
        primary: ViewStore,
        replicas: Sequence[Replica[S]],
        *,
        max_lag_s: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replicas = list(replicas)
        self.max_lag_s = max_lag_s
        self._clock = clock
        self._turn = itertools.count()
        self._checkers: list[threading.Thread] = []  # see keep_checking

    def keep_checking(self, stop: threading.Event) -> None:
        """Check each replica every REPLICA_CHECK_S on a thread of its own until ``stop`` is
        set (a server's): reads then never wait for a check, which for a replica that does
        not answer takes a connection's wait (nor does one replica's check wait for
        another's). Without it (a command) each read checks what is due itself. If a thread
        stalled, its replica's bound would grow past ``max_lag_s`` and the primary would
        serve: never a read staler than allowed."""
        if self._checkers:
            return
        self._checkers = [
            threading.Thread(
                target=self._keep_checking,
                args=(replica, stop),
                name=f"{replica.label} checks",
                daemon=True,
            )
            for replica in self.replicas
        ]
        for checker in self._checkers:
            checker.start()

    def stop_checking(self, timeout: float) -> None:
        """Wait for the checks' threads to end (their ``stop`` is set), ``timeout`` each."""
        for checker in self._checkers:
            checker.join(timeout)

    def _keep_checking(self, replica: Replica[S], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self._check(replica)
            except Exception:  # a fault: logged, and the replica checked again
                log.exception("checking %s failed", replica.describe())
            stop.wait(REPLICA_CHECK_S)

    def _check(self, replica: Replica[S]) -> None:
        replica.health = measure(self.primary, replica.store, self._clock)
        replica.note(*self.state(replica, self._clock()), self.max_lag_s)

    def check_due(self) -> None:
        """Check each replica whose last check is older than REPLICA_CHECK_S, unless another
        thread is checking it (the caller then goes on with what is known); nothing when
        a thread keeps checking them (``keep_checking``)."""
        if self._checkers:
            return
        now = self._clock()
        for replica in self.replicas:
            if now - replica.health.checked_at < REPLICA_CHECK_S:
                continue
            if not replica._checking.acquire(blocking=False):  # noqa: SLF001
                continue
            try:
                self._check(replica)
            finally:
                replica._checking.release()  # noqa: SLF001

    def eligible(self) -> list[Replica[S]]:
        """The replicas that may serve a read now (up, and behind by ``max_lag_s`` at
        most), starting with a different one each time (reads spread over them)."""
        self.check_due()
        now = self._clock()
        found = [r for r in self.replicas if r.health.lag_s(now) <= self.max_lag_s]
        if len(found) > 1:
            turn = next(self._turn) % len(found)
            found = found[turn:] + found[:turn]
        return found

    def state(self, replica: Replica[S], now: float) -> tuple[str, float | None]:
        """"ok", "lagging" (behind by more than ``max_lag_s``) or "down", and the lag."""
        if not replica.health.up:
            return "down", None
        lag_s = replica.health.lag_s(now)
        return ("lagging" if lag_s > self.max_lag_s else "ok"), round(lag_s, 3)

    def status(self) -> list[dict[str, object]]:
        """Each replica as an operator reads it (GET /health/ready, ``projections status``)."""
        self.check_due()
        now = self._clock()
        rows: list[dict[str, object]] = []
        for replica in self.replicas:
            state, lag_s = self.state(replica, now)
            row: dict[str, object] = {"replica": replica.number, "status": state, "lag_s": lag_s}
            if replica.health.reason:
                row["reason"] = replica.health.reason
            rows.append(row)
        return rows
