"""Several processes reading a fresh PostgreSQL ledger at once: none may fail.

The first reads of a database used to create the read models' and the tokens' tables, and
processes doing so at once raced on ``CREATE TABLE IF NOT EXISTS`` (a unique violation in
PostgreSQL's catalog: a traceback and exit 1, a 500 in the server). ``budget-ledger init`` now
makes every table; a database made before it did still works, its first readers making what
is missing one at a time.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier

import psycopg
from click.testing import CliRunner

from cli import main

READERS = 8
# What each reader runs, in turn: the read models, the tokens, the read models' state.
COMMANDS = (["balance"], ["tokens", "list"], ["projections", "status"])


def read_at_once(url: str, barrier: Barrier, index: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    command = COMMANDS[index % len(COMMANDS)]
    barrier.wait()
    result = CliRunner().invoke(main, [*command, "--database", url])
    crash = "" if isinstance(result.exception, SystemExit | None) else repr(result.exception)
    results.put((command, result.exit_code, result.output + crash))


def read_together(url: str) -> list[tuple[list[str], int, str]]:
    """Every reader's command, exit code and output; all started at once (forked, then
    released together by a barrier)."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(READERS)
    results = context.Queue()
    readers = [
        context.Process(target=read_at_once, args=(url, barrier, index, results))
        for index in range(READERS)
    ]
    for reader in readers:
        reader.start()
    answers = [results.get(timeout=120) for _ in readers]
    for reader in readers:
        reader.join(timeout=30)
    return answers


def tables(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ).fetchall()
    return {row[0] for row in rows}


def init(url: str) -> None:
    result = CliRunner().invoke(main, ["init", "--database", url])
    assert result.exit_code == 0, result.output


def test_processes_reading_a_fresh_database_at_once_all_succeed(postgres_url: str) -> None:
    init(postgres_url)
    made = tables(postgres_url)

    answers = read_together(postgres_url)

    failed = [answer for answer in answers if answer[1] != 0]
    assert not failed, failed
    # Reading created nothing: init made every table.
    assert tables(postgres_url) == made
    assert {"projection_state", "api_tokens"} <= made


def test_a_database_made_before_init_created_the_tables_is_completed_by_its_readers(
    postgres_url: str,
) -> None:
    """As a database made by an earlier version: the log, but no read models, no tokens."""
    init(postgres_url)
    made = tables(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for table in sorted(made):
            if table.startswith(("projection_state", "api_tokens", "balances_")):
                connection.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    assert "projection_state" not in tables(postgres_url)

    answers = read_together(postgres_url)

    failed = [answer for answer in answers if answer[1] != 0]
    assert not failed, failed
    assert tables(postgres_url) == made
