"""``budget-ledger serve``: run the HTTP API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from api.server import LOG_FORMATS, CannotListen
from api.server import serve as run_server
from cli.common import (
    PORT,
    WholeRange,
    database_option,
    max_lag_option,
    read_database_option,
    refusals,
)
from ledger.storage.config import default_database
from ledger.storage.settings import THREADS_PER_WORKER


@contextmanager
def listening() -> Iterator[None]:
    """A host and port the server cannot listen on, told with the options that choose them."""
    try:
        yield
    except CannotListen as error:
        if error.in_use:
            raise click.ClickException(
                f"{error.port} on {error.host} is already in use; stop what listens there or "
                "choose another with --port"
            ) from None
        raise click.ClickException(f"{error}; check --host and --port") from None


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=PORT, default=8080, show_default=True)
@click.option(
    "--workers",
    type=WholeRange(1, 64),
    default=None,
    help="Worker processes [default: the number of CPUs].",
)
@click.option(
    "--threads",
    type=WholeRange(1, 8),
    default=THREADS_PER_WORKER,
    show_default=True,
    help="Threads per worker.",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="text: gunicorn's lines; json: one JSON object per line (access and application logs).",
)
@click.option(
    "--proxy-hops",
    type=WholeRange(0, 10),
    default=0,
    show_default=True,
    envvar="BUDGET_LEDGER_PROXY_HOPS",
    show_envvar=True,
    help="How many reverse proxies stand in front of the server: their X-Forwarded-For and "
    "X-Forwarded-Proto are believed (the sign-in throttle sees the client's address, "
    "cookies are Secure behind TLS). 0 believes no X-Forwarded-* header.",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    default=False,
    envvar="BUDGET_LEDGER_SECURE_COOKIES",
    show_envvar=True,
    help="Send the pages' cookies with Secure always (TLS in front of the server).",
)
@read_database_option
@max_lag_option
@database_option
def serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    log_format: str,
    proxy_hops: int,
    secure_cookies: bool,
    read_databases: tuple[str, ...],
    max_lag_s: float,
    database: str | None,
) -> None:
    """Serve the HTTP API under gunicorn (see /docs and /openapi.json) until interrupted.
    Prints "listening on URL" on stderr once ready; /metrics is for Prometheus. With
    --read-database, reads are served by those replicas while they are behind the primary
    by --max-lag seconds at most; every answer says its log position (Ledger-Position)."""
    with refusals(), listening():
        run_server(
            database or default_database(),
            host=host,
            port=port,
            workers=workers or os.cpu_count() or 1,
            threads=threads,
            log_format=log_format,
            proxy_hops=proxy_hops,
            secure_cookies=secure_cookies,
            read_databases=read_databases,
            max_lag_s=max_lag_s,
        )


COMMANDS = (serve,)
