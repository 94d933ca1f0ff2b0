"""A PostgreSQL database for one benchmark run: on the server given, or on a throwaway server
started from this machine's binaries (scripts/pg-throwaway) with default durability."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
THROWAWAY = str(ROOT / "scripts" / "pg-throwaway")


@contextmanager
def bench_database(admin_url: str | None) -> Iterator[tuple[str, str]]:
    """Yield (url of a new empty database, admin url); drop it (and the server) afterwards."""
    server_dir = None
    if admin_url is None:
        server_dir = tempfile.mkdtemp(prefix="budget-ledger-bench-pg.")
        admin_url = subprocess.check_output([THROWAWAY, "start", server_dir], text=True).strip()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        yield admin_url.rsplit("/", 1)[0] + "/" + name, admin_url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server_dir:
            subprocess.run([THROWAWAY, "stop", server_dir], check=False)
