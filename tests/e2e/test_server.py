"""The real server: ``budget-ledger serve`` on a loopback port, driven over HTTP."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from click.testing import CliRunner
from gunicorn import glogging
from gunicorn.config import Config

from api.server import AccessLog
from cli import main

STARTUP_S_MAX = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def call(url: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), dict(error.headers)


def test_the_server_answers_over_loopback(database: str, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, [*args, "--database", database])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("units", "add", "TW", "Trung ương", "--level", "central")
    run("units", "add", "49", "Tỉnh Quảng Nam", "--level", "province", "--parent", "TW")
    token = run("tokens", "create", "--name", "so-tai-chinh", "--role", "admin")
    token = token.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "budget-ledger"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--database",
            database,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + STARTUP_S_MAX
        while True:
            try:
                status, body, _ = call(f"{base}/health")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert (status, body["status"]) == (200, "ok")
        line = {"program": "NTM", "kind": "SN", "source": "NSTW", "year": 2025, "holder": "TW"}
        adjustment = {
            **line,
            "amount_vnd": 7_000_000_000,
            "decision": "QĐ 1/QĐ-TTg",
            "effective_date": "2025-01-02",
            "movement_id": "srv-1",
        }
        status, receipt, headers = call(f"{base}/adjustments", token=token, body=adjustment)
        assert status == 201, receipt
        assert receipt["actor"] == "so-tai-chinh"
        assert headers["Location"] == "/movements/srv-1"
        status, again, headers = call(f"{base}/adjustments", token=token, body=adjustment)
        assert (status, again, headers["Idempotent-Replayed"]) == (201, receipt, "true")
        status, answer, _ = call(f"{base}/balances?holder=TW&as_of=2025-02-01", token=token)
        assert status == 200
        assert answer["balances"][0]["available_vnd"] == 7_000_000_000
        status, problem, headers = call(f"{base}/balances")
        assert status == 401 and headers["Content-Type"] == "application/problem+json"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "server.log").read_text()
    assert "gunicorn" in output.lower()
    # One access-log line per request, in gunicorn's default format.
    assert re.search(
        r'^127\.0\.0\.1 - - \[[^]]+\] "GET /balances\?holder=TW&as_of=2025-02-01 HTTP/1\.1" 200 '
        r'\d+ "-" "Python-urllib/[\d.]+"$',
        output,
        re.MULTILINE,
    ), output


def test_the_access_log_line_is_gunicorns_own() -> None:
    """AccessLog builds fewer atoms than gunicorn's logger; the line must come out the same,
    quotes escaped, a basic-auth user named, a missing referer as '-'."""
    config = Config()
    config.set("accesslog", "-")
    ours, theirs = AccessLog(config), glogging.Logger(config)
    environ = {
        "REMOTE_ADDR": "10.0.0.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": '/balances?holder=49&note="x"',
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/balances",
        "QUERY_STRING": 'holder=49&note="x"',
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"clerk:secret").decode(),
        "HTTP_USER_AGENT": 'agent "quoted"',
    }
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[("Content-Type", "x")])
    request = SimpleNamespace(headers=[("USER-AGENT", 'agent "quoted"')])
    took = timedelta(microseconds=1500)

    def line(logger: glogging.Logger) -> str:
        atoms = logger.atoms(response, request, environ, took)
        atoms["t"] = "[the time]"  # the clock's second may turn between the two calls
        return str(config.access_log_format % glogging.SafeAtoms(atoms))

    assert line(ours) == line(theirs)
    assert line(ours).startswith("10.0.0.7 - clerk [the time]")
    assert '"GET /balances?holder=49&note=\\"x\\" HTTP/1.1" 200 1234 "-" "agent \\"quoted\\""' in (
        line(ours)
    )
    response.sent = None
    assert line(ours) == line(theirs)
