"""Failover (issue 18): the primary stops, its streaming replica is promoted, and the ledger
on it is the one the primary had, to the last event, and takes new movements.

A pair of the test's own (scripts/pg-throwaway start + replica in a temporary directory; the
shared test replica is never promoted, since promotion cannot be undone). Everything the
operator does goes through the ``budget-ledger`` command line, as docs/deployment.md tells it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli_story import TY, Cli, funded, quang_nam
from tests.replication import SCRIPT, pg_throwaway, wait_for_replay

# "OK: 12 events, head position 12, digest 3f5a..." (cli/integrity.py)
VERIFIED = re.compile(r"^OK: \d+ events, head position (\d+), digest ([0-9a-f]{64})$", re.M)


@pytest.fixture
def pair() -> Iterator[tuple[str, Path, str, Path]]:
    """A primary and its streaming replica of this test alone: (primary URL, its directory,
    replica URL, its directory)."""
    if shutil.which("pg_config") is None and not os.environ.get("CI"):
        pytest.skip("no PostgreSQL server binaries (pg_config) on this machine")
    primary_dir = Path(tempfile.mkdtemp(prefix="budget-ledger-failover-primary."))
    replica_dir = Path(tempfile.mkdtemp(prefix="budget-ledger-failover-replica."))
    try:
        primary = pg_throwaway("start", str(primary_dir), "", "fsync=off")
        replica = pg_throwaway("replica", str(primary_dir), str(replica_dir))
        yield primary, primary_dir, replica, replica_dir
    finally:
        for folder in (replica_dir, primary_dir):
            subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True, check=False)
            shutil.rmtree(folder, ignore_errors=True)


def verified(cli: Cli, *args: str) -> tuple[int, str]:
    """``budget-ledger verify ARGS``: the head position and digest it printed."""
    found = VERIFIED.search(cli.out("verify", *args))
    assert found, "verify printed no head"
    return int(found.group(1)), found.group(2)


def test_a_promoted_replica_holds_the_primarys_log_to_its_head_and_takes_new_movements(
    pair: tuple[str, Path, str, Path],
) -> None:
    primary_url, primary_dir, replica_url, replica_dir = pair
    primary = funded(quang_nam(Cli(primary_url).init()))
    primary.disburse("505", 60 * TY, voucher="KB 1", date="2024-03-01")
    head = verified(primary)
    kept = primary.out("digest").strip()
    assert kept == f"{head[0]}:{head[1]}"

    wait_for_replay(primary_url, replica_url)
    # An auditor can prove the log on a replica, which only reads.
    assert verified(Cli(replica_url), "--against", kept) == head
    pg_throwaway("halt", str(primary_dir))
    pg_throwaway("promote", str(replica_dir))

    promoted = Cli(replica_url)
    # The same log, to the last event: the same head, and the digest kept from the primary
    # proves the prefix up to it.
    assert verified(promoted, "--against", kept) == head
    promoted.disburse("505", 5 * TY, voucher="KB 2", date="2024-03-02")
    after = verified(promoted, "--against", kept)
    assert after[0] > head[0]
    assert promoted.balances()["505"]["available_vnd"] == 150 * TY - 65 * TY
