"""``budget-ledger serve``: the API under gunicorn, a production WSGI server.

gunicorn rather than waitress: on a multi-core machine the GIL caps one process, and gunicorn
runs several worker processes (each with its own ledger and connections) with threads in each.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.config import AccessLogFormat

from ledger.application import open_ledger

# Within the ledger's PostgreSQL pool (4 + 4 overflow) per process. Measured against 4 threads
# and against 4 workers x 4 threads on 2 cores (docs/api.md, "Cost of a request"): 4 workers
# cost more CPU per request; 4 threads did not differ from 8 by more than the noise.
THREADS_PER_WORKER = 8


class AccessLog(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing the same access-log line from only the atoms its default
    format names. gunicorn builds an atom for every request header, response header and
    WSGI environ entry (about fifty) and escapes each, for every request: a tenth of a
    balance read's CPU in the server. Another format gets gunicorn's own atoms."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        if self.cfg.access_log_format != AccessLogFormat.default:
            return super().atoms(resp, req, environ, request_time)
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "l": "-",
            "u": self._get_user(environ) or "-",
            "t": self.now(),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status,
            "b": str(sent) if sent is not None else "-",
            "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"),
        }


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
        "logger_class": AccessLog,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
    }
    Server(database, options).run()
