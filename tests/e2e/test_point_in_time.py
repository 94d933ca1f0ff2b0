"""Point-in-time recovery (issue 18, docs/deployment.md "Backups"): a base backup and the
archived WAL bring a ledger back to the moment before a mistake, and ``verify --against``
proves the restored log is the one whose digest was kept, to its last event.

A cluster of the test's own (scripts/pg-throwaway start) archives its WAL to a directory
(``archive_command``); ``pg_basebackup`` takes the base backup; the ledger goes on recording,
the head digest is kept, a named restore point is made, then a mistake is recorded. The
primary is lost; the base backup is restored beside it with ``restore_command`` and
``recovery_target_name``, and started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.e2e.cli_story import TY, Cli, funded, quang_nam
from tests.e2e.test_failover import verified
from tests.replication import (
    SCRIPT,
    as_server_user,
    owned_directory,
    pg_throwaway,
    server_program,
)

RESTORE_POINT = "before-the-mistake"
DEADLINE_S = 60  # generous: the machine is shared


@dataclass
class Cluster:
    url: str
    port: int
    folder: Path  # scripts/pg-throwaway's DIR
    archive: Path  # where archive_command copies each finished WAL segment
    backups: Path  # where pg_basebackup writes
    restored: Path  # where the base backup is restored and started


@pytest.fixture
def archiving() -> Iterator[Cluster]:
    """A cluster of this test alone that archives its WAL, and folders beside it that the
    server's user owns (pytest's tmp_path is closed to it)."""
    if shutil.which("pg_config") is None and not os.environ.get("CI"):
        pytest.skip("no PostgreSQL server binaries (pg_config) on this machine")
    root = owned_directory(Path(tempfile.mkdtemp(prefix="budget-ledger-pitr.")))
    folder, archive = root / "primary", owned_directory(root / "archive")
    restored = owned_directory(root / "restored")
    try:
        url = pg_throwaway(
            "start",
            str(folder),
            "",
            "fsync=off",
            "archive_mode=on",
            f"archive_command='cp %p {archive}/%f'",
        )
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        yield Cluster(url, port, folder, archive, owned_directory(root / "backups"), restored)
    finally:
        if (restored / "data" / "postmaster.pid").exists():
            subprocess.run(
                server_program("pg_ctl", "-D", str(restored / "data"), "-m", "immediate", "stop"),
                capture_output=True,
                check=False,
            )
        subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run(command: list[str], log: Path | None = None) -> None:
    """Run ``command``, which must succeed; else say what it and the server's ``log`` said."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    said = log.read_text() if log is not None and log.exists() else ""
    assert done.returncode == 0, (command, done.stdout, done.stderr, said)


def query(url: str, statement: str) -> object:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(statement).fetchone()
    assert row is not None
    return row[0]


def test_a_base_backup_and_the_archived_wal_restore_the_ledger_to_before_a_mistake(
    archiving: Cluster,
) -> None:
    primary = funded(quang_nam(Cli(archiving.url).init()))
    backups = archiving.backups
    run(
        server_program(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(archiving.port), "-U", "postgres"),
            *("-D", str(backups / "base"), "-X", "stream", "-c", "fast"),
        )
    )
    # The ledger goes on after the base backup: recovery replays this from the archive.
    primary.disburse("505", 60 * TY, voucher="KB 1", date="2024-03-01")
    kept = primary.out("digest").strip()
    query(archiving.url, f"SELECT pg_create_restore_point('{RESTORE_POINT}')::text")
    primary.disburse("505", 80 * TY, voucher="KB 2 (the mistake)", date="2024-03-02")
    mistake = primary.out("digest").strip()
    # Close the WAL segment holding all of it, and wait until the archive has it.
    segment = query(archiving.url, "SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + DEADLINE_S
    while not (archiving.archive / str(segment)).exists():
        assert time.monotonic() < deadline, f"{segment} was never archived"
        time.sleep(0.1)
    pg_throwaway("halt", str(archiving.folder))  # the primary is lost

    data = archiving.restored / "data"
    run(as_server_user("cp", "-a", str(backups / "base"), str(data)))
    recovery = (
        f"restore_command = 'cp {archiving.archive}/%f %p'\n"
        f"recovery_target_name = '{RESTORE_POINT}'\n"
        "recovery_target_action = 'promote'\n"
    )
    with (data / "postgresql.auto.conf").open("a") as settings:  # the server's own file
        settings.write(recovery)
    signal = data / "recovery.signal"  # recover from the archive, then stop being a copy
    signal.touch()
    if os.geteuid() == 0:
        shutil.chown(signal, "postgres")
    port = free_port()
    # A recovering server needs max_connections at least the primary's (scripts/pg-throwaway
    # starts it with 200); archiving stays off on the restored copy.
    options = f"-p {port} -k {archiving.restored} -c listen_addresses=127.0.0.1"
    options += " -c max_connections=200"
    log = archiving.restored / "server.log"
    run(
        server_program("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start"), log
    )
    restored_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + DEADLINE_S
    while query(restored_url, "SELECT pg_is_in_recovery()"):
        assert time.monotonic() < deadline, "recovery never reached the restore point"
        time.sleep(0.1)

    restored = Cli(restored_url)
    # Everything up to the digest kept, and nothing after the restore point.
    position, digest = kept.split(":")
    assert verified(restored, "--against", kept) == (int(position), digest)
    refused = restored.run("verify", "--against", mistake, expect=1)
    assert f"no longer reaches position {mistake.split(':')[0]}" in refused.output
    assert restored.balances()["505"]["available_vnd"] == 150 * TY - 60 * TY
    # The restored ledger records again.
    restored.disburse("505", 5 * TY, voucher="KB 2", date="2024-03-02")
    assert restored.balances()["505"]["available_vnd"] == 150 * TY - 65 * TY
