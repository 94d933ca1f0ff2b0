"""The real server: ``budget-ledger serve`` on a loopback port, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from click.testing import CliRunner

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
    assert "gunicorn" in (tmp_path / "server.log").read_text().lower()
