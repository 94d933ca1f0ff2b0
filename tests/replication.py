"""A PostgreSQL streaming replica, as the tests see it (scripts/pg-throwaway replica).

Replication is of the whole cluster: a database made on the primary appears on the replica
under the same name once the replica has replayed that far. ``wait_for_replay`` waits for
that; the ``replicated`` fixture (tests/conftest.py) gives a fresh ledger on both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psycopg

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-throwaway"
REPLAY_TIMEOUT_S = 30.0  # generous: the machine is shared
POLL_S = 0.05


class Replicated(NamedTuple):
    """One ledger database on the primary, the same database on the replica, and the
    replica's directory (for ``scripts/pg-throwaway halt|resume DIR``)."""

    primary_url: str
    replica_url: str
    replica_dir: Path


def pg_throwaway(*args: str) -> str:
    """``scripts/pg-throwaway ARGS``, which must succeed: what it printed."""
    done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()


def as_server_user(*command: str) -> list[str]:
    """``command`` run as the server's user: the 'postgres' user when root, as
    scripts/pg-throwaway runs the server (it refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def server_program(name: str, *args: str) -> list[str]:
    """One of the machine's PostgreSQL programs (``pg_config --bindir``), as the server's
    user."""
    config = shutil.which("pg_config")
    assert config is not None, "no pg_config"
    bindir = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=True)
    return as_server_user(os.path.join(bindir.stdout.strip(), name), *args)


def owned_directory(path: Path) -> Path:
    """``path``, made, and owned by the server's user (see ``server_program``)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
    return path


def on_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    return url.rsplit("/", 1)[0] + "/" + name


def current_lsn(primary_url: str) -> str:
    """Where the primary's WAL ends now: its insert position, which holds every commit made
    so far (pg_current_wal_lsn, the write position, may not yet hold one made with
    synchronous_commit off, as the test server's are)."""
    with psycopg.connect(primary_url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def wait_for_replay(primary_url: str, replica_url: str, timeout: float = REPLAY_TIMEOUT_S) -> str:
    """Wait until the replica has replayed everything the primary had written when called
    (its current WAL position); return that position. Raises TimeoutError after ``timeout``
    seconds, saying how far the replica got. Connection failures (the database not yet
    replayed, the replica starting) are retried until then."""
    target = current_lsn(primary_url)
    deadline = time.monotonic() + timeout
    reached: str | None = None
    failure = ""
    while True:
        try:
            with psycopg.connect(replica_url, autocommit=True, connect_timeout=5) as connection:
                row = connection.execute(
                    "SELECT pg_last_wal_replay_lsn()::text, pg_last_wal_replay_lsn() >= %s::pg_lsn",
                    (target,),
                ).fetchone()
            assert row is not None
            reached = row[0]
            if row[1]:
                return target
        except psycopg.OperationalError as error:
            failure = f" (last connection error: {str(error).strip()})"
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"the replica at {replica_url} replayed up to {reached} in {timeout:g} s, "
                f"not the primary's {target}{failure}"
            )
        time.sleep(POLL_S)


@contextmanager
def replay_paused(replica_url: str) -> Iterator[None]:
    """The replica keeps answering but replays nothing more until the block ends
    (``pg_wal_replay_pause()``): what it serves stays at the position it had."""
    with psycopg.connect(replica_url, autocommit=True) as connection:
        connection.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            connection.execute("SELECT pg_wal_replay_resume()")


@contextmanager
def replica_halted(replica_dir: Path) -> Iterator[None]:
    """The replica's server stopped (``scripts/pg-throwaway halt``) until the block ends, then
    started again (``resume``); it catches up from its replication slot."""
    pg_throwaway("halt", str(replica_dir))
    try:
        yield
    finally:
        pg_throwaway("resume", str(replica_dir))


def restore_replica(replica_admin_url: str, replica_dir: Path) -> None:
    """Leave the shared replica as a test found it: running, and replaying (a test that
    failed half-way may have halted it or paused its replay)."""
    try:
        with psycopg.connect(replica_admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(
                "SELECT pg_wal_replay_resume() WHERE pg_is_in_recovery() "
                "AND pg_is_wal_replay_paused()"
            )
    except psycopg.OperationalError:
        subprocess.run([str(SCRIPT), "resume", str(replica_dir)], capture_output=True, check=False)
