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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from gunicorn import glogging
from gunicorn.config import Config

from api.server import AccessLog, CannotListen, check_port_free
from bench.cpu import free_port, listening_sockets, port_sockets
from cli import main
from ledger.domain.errors import LedgerError

STARTUP_S_MAX = 30
CONNECTIONS = 64  # opened at once by the spreading test


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


@contextmanager
def served(
    database: str, log_path: Path, workers: int = 2, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, int]]:
    """``budget-ledger serve`` (with ``args``) on a free loopback port, once every worker
    listens (each has its own socket; /health answers as soon as the first does): yields its
    base URL and the server's pid."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = log_path.open("w")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "budget-ledger"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--database",
            database,
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + STARTUP_S_MAX
        while True:
            try:
                call(f"{base}/health")
                if (listening_sockets(port) or 0) >= workers:
                    break
            except OSError:
                assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


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
    with served(database, tmp_path / "server.log") as (base, _):
        status, body, _ = call(f"{base}/health")
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
    output = (tmp_path / "server.log").read_text()
    assert "gunicorn" in output.lower()
    # One access-log line per request, in gunicorn's default format.
    assert re.search(
        r'^127\.0\.0\.1 - - \[[^]]+\] "GET /balances\?holder=TW&as_of=2025-02-01 HTTP/1\.1" 200 '
        r'\d+ "-" "Python-urllib/[\d.]+"$',
        output,
        re.MULTILINE,
    ), output


def exchange(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer to the end: status, headers, body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def test_what_gunicorn_refuses_itself_is_problem_json(database: str, tmp_path: Path) -> None:
    """Request lines and headers past gunicorn's limits never reach the application:
    gunicorn answered them with its own HTML page."""
    assert CliRunner().invoke(main, ["init", "--database", database]).exit_code == 0
    with served(database, tmp_path / "server.log", workers=1) as (base, _):
        long_url = b"GET /balances?holder=" + b"5" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        long_header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n"
        many_headers = (
            b"GET /health HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: 1\r\n" % n for n in range(150))
            + b"\r\n"
        )
        garbage = b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n"  # not a method
        for request, status, rule in (
            (long_url, 414, "uri-too-long"),
            (long_header, 431, "header-fields-too-large"),
            (many_headers, 431, "header-fields-too-large"),
            (garbage, 400, "http-error"),
        ):
            answered, headers, body = exchange(base, request)
            assert answered == status, (answered, headers, body[:200])
            assert headers["content-type"] == "application/problem+json", headers
            problem = json.loads(body)
            assert (problem["status"], problem["rule"]) == (status, rule), problem
            assert problem["type"] == f"/problems/{rule}" and problem["detail"]
        status, body, _ = call(f"{base}/problems/uri-too-long")
        assert (status, body["status"]) == (200, 414)
        status, body, _ = call(f"{base}/health")  # the worker still serves
        assert status == 200
    log = (tmp_path / "server.log").read_text()
    # Logged as gunicorn logs them.
    assert "Invalid request from ip=127.0.0.1: Request Line is too large" in log, log


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


def test_connections_opened_at_once_are_spread_over_the_workers(
    database: str, tmp_path: Path
) -> None:
    """Clients that connect together and keep their connections (a batch job's pool, the
    benchmark's 32 clients) must not all land on one worker process: one process has one
    GIL, and the other workers would idle while it queues. Each worker listens on its own
    socket (SO_REUSEPORT) and the kernel hashes connections over them: more than 48 of 64 on
    one of two workers (4 standard deviations) has a chance of about 1 in 10,000. On one
    shared socket, 32 such connections were seen split 32/0 and 26/6."""
    CliRunner().invoke(main, ["init", "--database", database])
    with served(database, tmp_path / "server.log", workers=2) as (base, arbiter):
        port = int(base.rsplit(":", 1)[1])
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        try:
            for client in clients:
                client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            for client in clients:
                assert client.recv(4096).startswith(b"HTTP/1.1 200")
            owners = connection_owners(port, workers_of(arbiter))
            assert sum(owners.values()) == len(clients), owners
            assert len(owners) == 2 and max(owners.values()) <= CONNECTIONS * 3 // 4, owners
        finally:
            for client in clients:
                client.close()


def workers_of(arbiter: int) -> list[int]:
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    return [int(pid) for pid in children]


def connection_owners(port: int, pids: list[int]) -> dict[int, int]:
    """How many established connections to ``port`` (server side) each process holds."""
    inodes = set(port_sockets(port, "01"))
    owners: dict[int, int] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                owners[pid] = owners.get(pid, 0) + 1
    return owners


def test_serve_behind_a_proxy_believes_its_forwarded_headers(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BUDGET_LEDGER_PROXY_HOPS=1 reaches every worker: the proxy's X-Forwarded-For is the
    address logged (and throttled), its X-Forwarded-Proto makes the cookies Secure."""
    CliRunner().invoke(main, ["init", "--database", database])
    log = tmp_path / "server.log"
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    monkeypatch.setenv("BUDGET_LEDGER_PROXY_HOPS", "1")
    with served(database, log, workers=1) as (base, _):
        request = urllib.request.Request(f"{base}/login", headers=forwarded)
        with urllib.request.urlopen(request, timeout=10) as response:
            cookie = response.headers["Set-Cookie"]
    monkeypatch.delenv("BUDGET_LEDGER_PROXY_HOPS")
    assert "; Secure" in cookie, cookie
    assert re.search(r'^203\.0\.113\.7 - - .*"GET /login HTTP/1\.1" 200', log.read_text(), re.M)
    refused = CliRunner().invoke(main, ["serve", "--proxy-hops", "-1", "--database", database])
    assert refused.exit_code == 2 and "--proxy-hops" in refused.output


def test_serve_refuses_a_port_in_use(database: str) -> None:
    CliRunner().invoke(main, ["init", "--database", database])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--database", database])
    assert result.exit_code != 0
    assert f"{port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output
    # A port in use is the server's trouble, not a refusal of the ledger.
    assert "refused" not in result.output
    assert "Nothing was recorded" not in result.output


def test_a_port_in_use_is_the_server_s_error_not_the_ledger_s() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CannotListen) as cannot:
            check_port_free("127.0.0.1", port)
    assert not isinstance(cannot.value, LedgerError)
    assert (cannot.value.port, cannot.value.in_use) == (port, True)
    assert "--" not in str(cannot.value)


def test_the_stack_floor_answers_in_the_api_s_shape() -> None:
    """bench/api.py reads the API's balance reads against bench/stack_floor.py: the floor
    must validate the same query and shape the same answer, or the comparison means nothing."""
    from api.schemas import BalanceSchema, BalancesSchema
    from bench.stack_floor import create_floor_app

    client = create_floor_app().test_client()
    answer = client.get("/balances?holder=20101&as_of=2025-03-04")
    assert answer.status_code == 200
    body = answer.get_json()
    assert BalancesSchema().validate(body) == {}
    assert body["as_of"] == "2025-03-04"
    assert [set(row) for row in body["balances"]] == [set(BalanceSchema().fields)] * 4
    assert {row["holder"] for row in body["balances"]} == {"20101"}


def test_cpu_of_an_unseen_process_counts_as_nothing() -> None:
    """pid 0 stands for a process the benchmark cannot see; as a tree root it would be the
    whole machine."""
    from bench.cpu import tree_cpu_s

    assert tree_cpu_s(0) == 0.0
    assert tree_cpu_s(os.getpid()) > 0.0
