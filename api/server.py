"""``budget-ledger serve``: the API under gunicorn, a production WSGI server.

gunicorn rather than waitress: on a multi-core machine the GIL caps one process, and gunicorn
runs several worker processes (each with its own ledger and connections) with threads in each.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from ledger.application import open_ledger

THREADS_PER_WORKER = 8  # within the ledger's PostgreSQL pool (4 + 4 overflow) per process


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, database: str, options: dict[str, Any]) -> None:
        self.database = database
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from api import create_app

        return create_app(self.database)


def serve(database: str, *, host: str, port: int, workers: int, threads: int) -> None:
    # Fail before forking if the database holds no ledger, with the ledger's own message.
    open_ledger(database).close()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
    }
    Server(database, options).run()
