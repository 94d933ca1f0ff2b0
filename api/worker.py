"""gunicorn's threaded worker, answering what gunicorn refuses itself as problem+json.

A request line or headers past gunicorn's limits (``limit_request_line`` 4094 bytes,
``limit_request_fields`` 100, ``limit_request_field_size`` 8190), or bytes that are not
HTTP, never reach the application: gunicorn's ``Worker.handle_error`` answered them with an
HTML page of its own. This worker answers them as the application answers everything, RFC
9457 problem details, with gunicorn's statuses, log lines and access-log line. The limits
stay gunicorn's: they bound what a worker reads before it knows who is asking.
"""

from __future__ import annotations

import http
import json
from datetime import datetime
from ssl import SSLError
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

from api.errors import API_PROBLEMS, PROBLEM_CONTENT_TYPE, problem_document

# The exceptions gunicorn answers with a status of their own, and the problem each is; any
# other ParseException (or an SSL error) is the client's 400, anything else the server's 500.
STATUSES: tuple[tuple[type[Exception], str], ...] = (
    (errors.InvalidResponseHeader, "internal"),  # the application's header: its fault
    (errors.InvalidResponseHeaderName, "internal"),
    (errors.ConfigurationProblem, "internal"),
    (errors.LimitRequestLine, "uri-too-long"),
    (errors.LimitRequestHeaders, "header-fields-too-large"),
    (errors.UnsupportedTransferCoding, "not-implemented"),
    (errors.ExpectationFailed, "expectation-failed"),
)


def rule_of(error: BaseException) -> str:
    for cls, rule in STATUSES:
        if isinstance(error, cls):
            return rule
    return "http-error" if isinstance(error, (errors.ParseException, SSLError)) else "internal"


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket
        rule = rule_of(exc)
        found = API_PROBLEMS[rule]
        if found.status < 500:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
            detail = f"{found.description} ({str(exc)[:200]})"
        else:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
            detail = found.description
        body = json.dumps(
            problem_document(found.status, rule, found.title, detail), ensure_ascii=False
        ).encode("utf-8")
        reason = http.HTTPStatus(found.status).phrase
        if req is None:
            req = getattr(exc, "req", None)  # an invalid header carries its request
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"] = addr[0]
            environ["REMOTE_PORT"] = str(addr[1])
            response = Response(req, client, self.cfg)
            response.status = f"{found.status} {reason}"
            response.response_length = response.sent = len(body)
            self.log.access(response, req, environ, datetime.now() - started)
        head = (
            f"HTTP/1.1 {found.status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {PROBLEM_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:  # the client is gone: nothing to tell it
            self.log.debug("Failed to send error message.")
