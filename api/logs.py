"""What the server writes about itself: a request id and the caller's name on every request,
and the log lines, as text or as one JSON object per line (``serve --log-format json``).

Every request gets an id: the client's ``X-Request-Id`` when it is a plain token (a proxy's
id, so one request can be followed through both logs), else a new one; it is sent back in
``X-Request-Id`` and written in the access log line and in any application log line written
while the request is served (an error's traceback, for one).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from gunicorn import glogging

# Where a request's id and its token's name are kept in the WSGI environ, which gunicorn
# hands to its access log after the answer.
REQUEST_ID = "budget_ledger.request_id"
ACTOR = "budget_ledger.actor"
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# The attributes every LogRecord has; anything else on a record was passed as ``extra``.
RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
OUR_HANDLER = "_budget_ledger"


def install(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.after_request(name_request)


def assign_request_id() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    found = REQUEST_ID_PATTERN.fullmatch(given)
    request.environ[REQUEST_ID] = given if found else uuid.uuid4().hex


def name_request(response: Response) -> Response:
    environ = request.environ
    request_id = environ.get(REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    token = g.get("token")
    if token is not None:
        environ[ACTOR] = token.name
    return response


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, pid, message, the request's id when
    written while serving one, any ``extra`` fields, and an exception's type, message and
    traceback as fields (never lines of their own)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = request.environ.get(REQUEST_ID)
        for key, value in vars(record).items():
            if key not in RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = f"{type(error).__name__}: {error}"
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, as logging's last-resort
    handler does (a test harness may replace and close the stream it had at setup)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr


class Quiet(logging.Filter):
    """Drops gunicorn's "Listening at:" line, which is empty when the workers bind the port
    (SO_REUSEPORT); the server says "listening on URL" itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.msg == "Listening at: %s (%s)"
            and isinstance(record.args, tuple)
            and record.args[:1] == ("",)
        )


def route_logs(logger: glogging.Logger, formatter: logging.Formatter) -> None:
    """gunicorn's error log and the application's loggers (``budget_ledger.*``, the
    libraries') to stderr in one format. Called by each gunicorn logger's ``setup``, in the
    arbiter: the workers inherit it."""
    error_log = logger.error_log
    if not any(isinstance(found, Quiet) for found in error_log.filters):
        error_log.addFilter(Quiet())
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, OUR_HANDLER, False):
            root.removeHandler(handler)
    handler = StderrHandler()
    setattr(handler, OUR_HANDLER, True)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    logging.getLogger("budget_ledger").setLevel(logging.INFO)


class JsonLog(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger writing JSON lines: one object per request on stdout (the access
    log), one per message on stderr (gunicorn's and the application's). Every object has
    ``time``, ``level``, ``logger``, ``pid`` and ``message``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)
        route_logs(self, formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            took: timedelta = request_time
            method, path, status = environ["REQUEST_METHOD"], environ["RAW_URI"], int(status)
            entry = {
                "time": timestamp(datetime.now(UTC).timestamp()),
                "level": "info",
                "logger": "access",
                "pid": os.getpid(),
                "message": f"{method} {path} {status}",
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(took.total_seconds() * 1000, 3),
                "bytes": getattr(resp, "sent", None),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "actor": environ.get(ACTOR),
                "request_id": environ.get(REQUEST_ID),
            }
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.error_log.exception("cannot write the access log line")
