"""The README's PostgreSQL backup, for real: pg_dump -Fc, createdb, pg_restore (the machine's
own binaries, the test server's version), then ``verify --against`` the digest kept before."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from ledger.application import open_ledger
from tests.conftest import POSTGRES_ENVVAR
from tests.story import DONG_GIANG, record, worked_example


def run(*args: str) -> Result:
    from cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def postgres_tool(name: str) -> str:
    """A client program of the machine's PostgreSQL (``pg_config --bindir``)."""
    config = shutil.which("pg_config")
    if config is None:
        pytest.skip("no pg_config (scripts/test installs PostgreSQL)")
    bindir = subprocess.run(
        [config, "--bindir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return os.path.join(bindir, name)


@pytest.fixture
def restored_urls(postgres_url: str) -> Iterator[list[str]]:
    """Names for restored databases on the test server (the test creates them with
    createdb), dropped afterwards."""
    urls: list[str] = []
    yield urls
    admin = os.environ[POSTGRES_ENVVAR]
    with psycopg.connect(admin, autocommit=True) as connection:
        for url in urls:
            connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def restore(dump: Path, restored_urls: list[str]) -> str:
    """createdb then pg_restore, as README.md's "Operations" writes them."""
    admin = os.environ[POSTGRES_ENVVAR]
    name = f"restored_{uuid.uuid4().hex[:12]}"
    url = admin.rsplit("/", 1)[0] + "/" + name
    restored_urls.append(url)
    subprocess.run([postgres_tool("createdb"), "--maintenance-db", admin, name], check=True)
    subprocess.run(
        [postgres_tool("pg_restore"), "--exit-on-error", "--no-owner", "-d", url, str(dump)],
        check=True,
    )
    return url


def test_a_pg_dump_restored_holds_the_digest_kept_before(
    postgres_url: str, restored_urls: list[str], tmp_path: Path
) -> None:
    assert run("init", "--database", postgres_url).exit_code == 0
    ledger = open_ledger(postgres_url)
    try:
        worked_example(ledger)
        early_dump = tmp_path / "early.dump"
        subprocess.run(
            [postgres_tool("pg_dump"), "-Fc", "-f", str(early_dump), postgres_url], check=True
        )
        record(ledger, "disburse", "after-early-dump", date(2024, 6, 1), DONG_GIANG, amount_vnd=7)
        kept = run("digest", "--database", postgres_url).stdout.strip()
        # Writers go on between the digest and the dump: the dump holds at least that prefix.
        record(ledger, "disburse", "before-dump", date(2024, 6, 2), DONG_GIANG, amount_vnd=5)
        dump = tmp_path / "ledger.dump"
        subprocess.run([postgres_tool("pg_dump"), "-Fc", "-f", str(dump), postgres_url], check=True)
    finally:
        ledger.close()

    restored = restore(dump, restored_urls)
    verified = run("verify", "--database", restored, "--against", kept)
    assert verified.exit_code == 0, verified.output
    position = kept.split(":")[0]
    assert f"OK: the log still holds exactly the prefix up to position {position}" in (
        verified.output
    )
    # The restored ledger answers as the source did.
    assert run("balance", "--holder", "505", "--format", "json", "--database", restored).stdout == (
        run("balance", "--holder", "505", "--format", "json", "--database", postgres_url).stdout
    )

    # A dump from before the digest was kept does not hold it: verify says so.
    stale = restore(early_dump, restored_urls)
    refused = run("verify", "--database", stale, "--against", kept)
    assert refused.exit_code == 1
    assert f"no longer reaches position {position}" in refused.output
