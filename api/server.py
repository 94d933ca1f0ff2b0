"""``budget-ledger serve``: the API under gunicorn, a production WSGI server.

gunicorn rather than waitress: on a multi-core machine the GIL caps one process, and gunicorn
runs several worker processes (each with its own ledger and connections) with threads in each.
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.config import AccessLogFormat

from api.logs import JsonLog, route_logs
from api.worker import ProblemWorker
from ledger.application import open_ledger
from ledger.storage.replicas import check_read_databases
from ledger.storage.settings import MAX_LAG_S

LOG_FORMATS = ("text", "json")
# prometheus_client's multiprocess mode: each worker writes its counters under this
# directory and /metrics sums them (api/metrics.py).
MULTIPROCESS_ENVVAR = "PROMETHEUS_MULTIPROC_DIR"


class AccessLog(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing the same access-log line from only the atoms its default
    format names. gunicorn builds an atom for every request header, response header and
    WSGI environ entry (about fifty) and escapes each, for every request: a tenth of a
    balance read's CPU in the server. Another format gets gunicorn's own atoms. The
    application's log lines come out in gunicorn's format too (``--log-format text``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        route_logs(self, logging.Formatter(self.error_fmt, self.datefmt))

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
    """gunicorn with these settings, serving the WSGI application ``load`` returns (in each
    worker, after the fork)."""

    def __init__(self, load: Callable[[], Any], options: dict[str, Any]) -> None:
        self._load = load
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


class MetricsDirectory:
    """gunicorn hooks keeping prometheus_client's directory for one server run: the
    operator's ``PROMETHEUS_MULTIPROC_DIR`` emptied, or a fresh one made and removed at exit.
    Set in the arbiter before the workers fork (they inherit it) and before anything imports
    prometheus_client in them."""

    def __init__(self) -> None:
        self.path = ""
        self.made = False

    def on_starting(self, server: Any) -> None:
        given = os.environ.get(MULTIPROCESS_ENVVAR)
        if given:
            os.makedirs(given, exist_ok=True)
            for stale in glob.glob(os.path.join(given, "*.db")):  # counts of an earlier run
                os.remove(stale)
            self.path = given
        else:
            self.path = tempfile.mkdtemp(prefix="budget-ledger-metrics-")
            self.made = True
            os.environ[MULTIPROCESS_ENVVAR] = self.path

    def child_exit(self, server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess  # in the arbiter, once the mode is set

        multiprocess.mark_process_dead(worker.pid, self.path)  # type: ignore[no-untyped-call]

    def on_exit(self, server: Any) -> None:
        if self.made:
            shutil.rmtree(self.path, ignore_errors=True)

    def hooks(self) -> dict[str, Any]:
        return {
            "on_starting": self.on_starting,
            "child_exit": self.child_exit,
            "on_exit": self.on_exit,
        }


def serve(
    database: str,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    log_format: str = "text",
    proxy_hops: int = 0,
    secure_cookies: bool = False,
    read_databases: Sequence[str] = (),
    max_lag_s: float = MAX_LAG_S,
) -> None:
    # Fail before forking if the database holds no ledger, with the ledger's own message,
    # or if the read databases cannot be replicas of it.
    check_read_databases(database, read_databases, max_lag_s)
    open_ledger(database).close()

    def load() -> Any:
        from api import create_app  # in each worker, after the fork

        return create_app(
            database,
            proxy_hops=proxy_hops,
            secure_cookies=secure_cookies,
            read_databases=read_databases,
            max_lag_s=max_lag_s,
        )

    serve_app(
        load,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        log_format=log_format,
        hooks=MetricsDirectory().hooks(),
    )


def serve_app(
    load: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    log_format: str = "text",
    hooks: dict[str, Any] | None = None,
) -> None:
    """Run the WSGI application ``load`` returns under gunicorn as ``serve`` runs the API
    (bench/api.py serves its stack-floor application through this too, so both are measured
    under the same server settings)."""
    check_port_free(host, port)
    address = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def when_ready(server: Any) -> None:
        server.log.info("listening on %s", address, extra={"address": address})

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread, answering what gunicorn refuses itself as problem+json (api/worker.py).
        "worker_class": ProblemWorker,
        "threads": threads,
        # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
        # connections over them. On one shared socket the worker that wakes first takes a
        # burst of connections: 32 clients connecting at once were seen split 32/0 and 26/6
        # between 2 workers, and as they keep their connections alive one process (one GIL)
        # served most of the load while the other idled (docs/api.md, "Cost of a request").
        "reuse_port": True,
        "accesslog": "-",
        "logger_class": JsonLog if log_format == "json" else AccessLog,
        "when_ready": when_ready,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        **(hooks or {}),
    }
    Server(load, options).run()


class CannotListen(Exception):
    """The server cannot listen where it was told: not a refusal of the ledger, nothing to
    do with its data. ``in_use``: another program holds the port."""

    def __init__(self, host: str, port: int, reason: str, *, in_use: bool) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host, self.port, self.reason, self.in_use = host, port, reason, in_use


def check_port_free(host: str, port: int) -> None:
    """With SO_REUSEPORT the workers, not the arbiter, bind the port, and a port taken by
    another program would only show as workers failing to boot; say it plainly first. (A
    bind without SO_REUSEPORT also fails while another server listens with it.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            in_use = error.errno == errno.EADDRINUSE
            reason = "it is already in use" if in_use else error.strerror or str(error)
            raise CannotListen(host, port, reason, in_use=in_use) from None
