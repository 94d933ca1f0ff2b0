"""``budget-ledger backup FILE``: an online, consistent copy of a SQLite ledger.

SQLite's online backup API (``sqlite3.Connection.backup``) copies the database in one step,
inside one read transaction: writers go on (the ledger runs SQLite in WAL mode), and the copy
holds exactly the writes committed when it began, events, chain, read models and tokens alike.
The copy is written beside FILE and renamed onto it only once complete and readable, so FILE is
never half written. PostgreSQL has its own tools (README, "Operations").
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import click

from api.services import bootstrap
from cli.common import database_option, refusals
from cli.integrity import stored_log
from cli.session import Session, pass_session
from ledger.storage.config import default_database, is_postgres
from ledger.storage.settings import LOCK_WAIT_S


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the database at ``source`` to the new file ``target`` in one step (one read
    transaction: a consistent snapshot while writers go on)."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_S)
    try:
        copy = sqlite3.connect(target)
        try:
            reader.backup(copy)
        finally:
            copy.close()
    finally:
        reader.close()


def seal_copy(target: Path) -> None:
    """Make the copy one self-contained file (rollback journal: everything checkpointed, no
    -wal file beside it to carry along) and check its pages."""
    copy = sqlite3.connect(target)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")
        found = copy.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        copy.close()
    if found != "ok":
        raise click.ClickException(f"the copy does not check out ({found}); nothing was kept")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@database_option
@pass_session
def backup(session: Session, file: Path, force: bool, database: str | None) -> None:
    """Copy a SQLite ledger to FILE while it keeps serving and recording (online,
    consistent), then print the copy's head as POSITION:DIGEST, as 'budget-ledger digest'
    does: 'budget-ledger verify --against POSITION:DIGEST' on a restored copy proves it
    holds that log."""
    database = database or default_database()
    if is_postgres(database):
        raise click.ClickException(
            "backup copies a SQLite ledger; back up PostgreSQL with pg_dump -Fc or "
            "pg_basebackup (README.md, 'Operations')"
        )
    if file.exists() and not force:
        raise click.ClickException(f"{file} exists; choose another FILE or add --force")
    source = Path(database).expanduser()
    if file.exists() and file.resolve() == source.resolve():
        raise click.ClickException(f"{file} is the ledger itself; choose another FILE")
    with refusals():  # a path that holds no ledger is refused with the ledger's message
        session.open(database)
    file.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".partial", dir=file.parent)
    os.close(handle)
    partial = Path(name)
    try:
        partial.unlink()  # a name of our own; sqlite3 makes the file
        copy_sqlite(source, partial)
        with refusals():
            copy = bootstrap(str(partial))  # another database than the command's own
        try:
            position, digest = stored_log(copy).head()
        finally:
            copy.close()
        seal_copy(partial)
        os.replace(partial, file)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    click.echo(
        f"backed up {source} to {file}: head position {position}; keep the line below for "
        "'budget-ledger verify --against'",
        err=True,
    )
    click.echo(f"{position}:{digest.hex()}")


COMMANDS = (backup,)
