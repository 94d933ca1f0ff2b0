"""Where the ledger is stored: a SQLite file by default, PostgreSQL when given a URL."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.domain.errors import InvalidInput
from ledger.storage.settings import (
    CONNECTION_WAIT_S,
    LEDGER_POOL_OVERFLOW,
    LEDGER_POOL_SIZE,
    LOCK_WAIT_S,
)

DATABASE_ENVVAR = "BUDGET_LEDGER_DATABASE"


def data_directory() -> Path:
    """``$XDG_DATA_HOME/budget-ledger`` (``~/.local/share/budget-ledger`` when unset)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "budget-ledger"


def default_database() -> str:
    return str(data_directory() / "ledger.sqlite3")


def is_postgres(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def persistence_environment(database: str) -> dict[str, str]:
    """The eventsourcing settings for a SQLite path or a ``postgresql://`` URL."""
    if is_postgres(database):
        return _postgres_environment(database)
    if "://" in database:
        raise InvalidInput(
            f"{database!r} is neither a SQLite file path nor a postgresql:// URL",
            field="database",
        )
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        # The library's recorder plus the hash chain (ledger/storage/chain.py).
        "APPLICATION_RECORDER_TOPIC": "ledger.storage.sqlite:LedgerSQLiteRecorder",
        "SQLITE_DBNAME": str(path),
        # Writers from other processes wait this long for SQLite's write lock.
        "SQLITE_LOCK_TIMEOUT": str(LOCK_WAIT_S),
    }


def _postgres_environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidInput(
            "the PostgreSQL URL names no database; write postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
            field="database",
        )
    host = parts.hostname or query.get("host", ["localhost"])[0]
    return {
        # The library's, its pool set to outlive the database's restarts (postgres.py).
        "PERSISTENCE_MODULE": "ledger.storage.postgres:LedgerPostgresFactory",
        # One statement and one commit per movement, table lock included (postgres.py).
        "APPLICATION_RECORDER_TOPIC": "ledger.storage.postgres:LedgerApplicationRecorder",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
        # Writers take an exclusive lock on the events table to keep ids in commit order;
        # never wait for it forever.
        "POSTGRES_LOCK_TIMEOUT": str(LOCK_WAIT_S),
        # How long a caller waits for a pooled connection (the library's name for it).
        "POSTGRES_CONNECT_TIMEOUT": str(CONNECTION_WAIT_S),
        # Check each connection before handing it out: one a restart killed is replaced.
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_POOL_SIZE": str(LEDGER_POOL_SIZE),
        "POSTGRES_MAX_OVERFLOW": str(LEDGER_POOL_OVERFLOW),
    }


def describe(database: str) -> str:
    """The database for messages, without any password."""
    if is_postgres(database):
        parts = urlsplit(database)
        host = parts.hostname or "localhost"
        return f"postgresql://{parts.username or ''}@{host}:{parts.port or 5432}{parts.path}"
    return str(Path(database).expanduser())
