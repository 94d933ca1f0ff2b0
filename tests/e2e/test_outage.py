"""The database goes away under load and comes back: the real server must come back by itself.

A PostgreSQL cluster of the test's own (scripts/pg-throwaway; the shared test server is never
restarted) serves ``budget-ledger serve`` while client threads write and read. The cluster
is crashed and restarted (``restart -m immediate``), later stopped for some seconds and
started again. Throughout, every answer is a 2xx or a 503 problem with ``Retry-After``, never
a 500; while the database is down the answers are 503; after it returns the server answers
2xx again without being restarted; every acknowledged write is in the log once, and a write
whose answer was lost (or was a 503) gets, when sent again with its id, the first receipt.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from cli import main
from cli.movements import record as cli_record
from ledger.application import BudgetLedger, open_ledger
from ledger.domain.movements import Adjust
from ledger.domain.values import LineKey
from ledger.storage.settings import CONNECTION_WAIT_S
from tests.e2e.test_server import call, served

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-throwaway"
WRITERS = 3
READERS = 2
# Long enough for each client thread to make a whole request while the database is down: one
# under way as it stops may take a pool's wait (5 s) to fail, the next another.
HALT_S = 15
# Bounds on waiting for what must happen (the server coming back by itself, the load
# starting): generous, since the machine is shared; before the fix the server never came back.
DEADLINE_S = 60
CLIENT_TIMEOUT_S = 30
# The server is back when this many answers in a row of each kind are 2xx.
RECOVERED = 8
KINDS = ("write", "read")
PROGRAMS = ("NTM", "GNBV", "DTTS")  # a line per writer: no writer waits on another's line


@dataclass
class Answer:
    kind: str  # "write" or "read"
    started: float
    ended: float
    status: int | None  # None: no answer reached the client
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    movement: dict[str, Any] | None = None  # the write's body


@pytest.fixture
def cluster() -> Iterator[tuple[str, Callable[..., None]]]:
    """A PostgreSQL cluster of this test alone: its URL, and ``control(command)`` to restart,
    halt or resume it."""
    if shutil.which("pg_config") is None and not os.environ.get("CI"):
        pytest.skip("no PostgreSQL server binaries (pg_config) on this machine")
    folder = tempfile.mkdtemp(prefix="budget-ledger-outage-pg.")
    started = subprocess.run(
        [str(SCRIPT), "start", folder, "", "fsync=off"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, started.stderr

    def control(*command: str) -> None:
        done = subprocess.run(
            [str(SCRIPT), command[0], folder, *command[1:]],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    try:
        yield started.stdout.strip(), control
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def send(url: str, token: str, body: Any = None) -> tuple[int | None, Any, dict[str, str]]:
    """One request; (None, reason, {}) when no answer came back."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_S) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            text = error.read()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = text.decode(errors="replace")
            return error.code, answer, dict(error.headers)
    except OSError as error:
        return None, repr(error), {}


def adjustment(movement_id: str, program: str = "NTM") -> dict[str, Any]:
    return {
        "program": program,
        "kind": "SN",
        "source": "NSTW",
        "year": 2025,
        "holder": "TW",
        "amount_vnd": 1_000_000,
        "decision": "QĐ 7/QĐ-TTg",
        "effective_date": "2025-01-02",
        "movement_id": movement_id,
    }


class Load:
    """Writer and reader threads against the server until stopped; every answer kept."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.write, args=(n,), daemon=True) for n in range(WRITERS)
        ] + [threading.Thread(target=self.read, args=(n,), daemon=True) for n in range(READERS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT_S + 5)

    def keep(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def write(self, writer: int) -> None:
        sent = 0
        while not self.stopping.is_set():
            body = adjustment(f"load-{writer}-{sent}", PROGRAMS[writer % len(PROGRAMS)])
            sent += 1
            started = time.monotonic()
            status, answer, headers = send(f"{self.base}/adjustments", self.token, body)
            self.keep(Answer("write", started, time.monotonic(), status, answer, headers, body))
            time.sleep(0.02)

    def read(self, reader: int) -> None:
        paths = ["/balances?holder=TW&as_of=2025-02-01", "/history?holder=TW"]
        done = 0
        while not self.stopping.is_set():
            started = time.monotonic()
            status, answer, headers = send(self.base + paths[done % 2], self.token)
            done += 1
            self.keep(Answer("read", started, time.monotonic(), status, answer, headers))
            time.sleep(0.02)

    def snapshot(self) -> list[Answer]:
        with self.lock:
            return list(self.answers)

    def wait_for_success_after(self, moment: float) -> None:
        """Until the last RECOVERED answers of each kind, all to requests made after
        ``moment``, are 2xx: the server answers again, from every worker and thread."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            after = [a for a in self.snapshot() if a.started > moment]
            last = {kind: [a for a in after if a.kind == kind][-RECOVERED:] for kind in KINDS}
            if all(
                len(answers) == RECOVERED and all(200 <= (a.status or 0) < 300 for a in answers)
                for answers in last.values()
            ):
                return
            recent = [(a.kind, a.status, a.body) for a in after[-4:]]
            assert time.monotonic() < deadline, f"the server did not come back: {recent}"
            time.sleep(0.2)


def fire_and_forget(base: str, token: str, body: dict[str, Any]) -> None:
    """Send a write and hang up without reading the answer: a client whose answer was lost."""
    data = json.dumps(body).encode()
    port = int(base.rsplit(":", 1)[1])
    head = (
        f"POST /adjustments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(head.encode() + data)


def budget_ledger(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "budget-ledger"), *args]


def in_thread(target: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``target`` now on a thread of its own; the returned call waits for its result."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(target()), daemon=True)
    thread.start()

    def result() -> Any:
        thread.join(timeout=DEADLINE_S)
        assert box, "the call did not return"
        return box[0]

    return result


def cli_write_while_down(ledger: BudgetLedger) -> click.ClickException:
    """A CLI write on a ledger opened before the database went away, without --id."""
    try:
        cli_record(
            ledger,
            Adjust,
            movement_id=None,
            effective_date=date(2025, 1, 2),
            actor="ops",
            output_format="json",
            **LineKey("NTM", "SN", "NSTW", 2025, "TW").as_dict(),
            amount_vnd=1_000,
            decision="QĐ 8/QĐ-TTg",
        )
    except click.ClickException as error:
        return error
    raise AssertionError("the write did not fail while the database was down")


@contextmanager
def following(url: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``budget-ledger projections follow`` until the block ends (then interrupted)."""
    with log_path.open("w") as log:
        follower = subprocess.Popen(
            budget_ledger("projections", "follow", "--wait", "0.5", "--database", url),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield follower
        finally:
            follower.send_signal(signal.SIGINT)
            follower.wait(timeout=30)


def test_the_server_comes_back_by_itself_after_the_database_restarts(
    cluster: tuple[str, Callable[..., None]], tmp_path: Path
) -> None:
    url, control = cluster
    stack = ExitStack()
    with stack:
        check_outage(url, control, tmp_path, stack)


def check_outage(url: str, control: Callable[..., None], tmp_path: Path, stack: ExitStack) -> None:
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, [*args, "--database", url])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("units", "add", "TW", "Trung ương", "--level", "central")
    token = run("tokens", "create", "--name", "ops", "--role", "admin").strip().splitlines()[-1]

    follower = stack.enter_context(following(url, tmp_path / "follow.log"))
    cli_ledger = open_ledger(url)
    stack.callback(cli_ledger.close)
    with served(url, tmp_path / "server.log") as (base, _), Load(base, token) as load:
        load.wait_for_success_after(0.0)
        assert call(f"{base}/health/ready")[1]["stores"] == {
            "event_log": "ok",
            "read_models": "ok",
        }

        # 1. A crash: every connection dies at once, the server restarts within a second.
        crashed = time.monotonic()
        control("restart", "immediate")
        restarted = time.monotonic()
        load.wait_for_success_after(restarted)
        assert crashed < restarted

        # 2. An answer lost: the write is recorded, its client never hears back.
        lost = adjustment("lost-answer")
        fire_and_forget(base, token, lost)
        deadline = time.monotonic() + DEADLINE_S
        while send(f"{base}/movements/lost-answer", token)[0] != 200:
            assert time.monotonic() < deadline, "the fire-and-forget write was not recorded"
            time.sleep(0.2)

        # 3. The database stopped for some seconds.
        control("halt", "fast")
        halted = time.monotonic()
        live = call(f"{base}/health/live")
        ready = in_thread(lambda: call(f"{base}/health/ready"))
        cli_read = in_thread(
            lambda: subprocess.run(
                budget_ledger("balance", "--database", url), capture_output=True, text=True
            )
        )
        cli_write = in_thread(lambda: cli_write_while_down(cli_ledger))
        ready_answer, cli_read_done, cli_write_error = ready(), cli_read(), cli_write()
        time.sleep(max(0.0, halted + HALT_S - time.monotonic()))
        resuming = time.monotonic()
        control("resume")
        resumed = time.monotonic()
        load.wait_for_success_after(resumed)

    answers = load.snapshot()
    server_log = (tmp_path / "server.log").read_text()

    # Never a 500, never without an answer: a 2xx, or a 503 problem saying when to come back.
    odd = [(a.kind, a.status, a.body) for a in answers if a.status not in (200, 201, 503)]
    assert not odd, (odd[:5], server_log[-3000:])
    for answer in answers:
        if answer.status == 503:
            assert answer.headers["Content-Type"] == "application/problem+json", answer
            assert int(answer.headers["Retry-After"]) >= 1, answer
            assert "nothing was recorded" not in json.dumps(answer.body).lower(), answer

    # While the database was down, every request made and answered meanwhile got a 503.
    during = [a for a in answers if halted < a.started and a.ended < resuming]
    assert {a.kind for a in during} == {"write", "read"}, [(a.kind, a.status) for a in answers]
    assert {a.status for a in during} == {503}, [(a.kind, a.status, a.body) for a in during]

    # Liveness answers whatever the database does; readiness names the stores that are down.
    assert live[0] == 200, live
    status, problem, headers = ready_answer
    assert status == 503 and headers["Content-Type"] == "application/problem+json", problem
    assert problem["detail"] == "the event log and the read models do not answer", problem
    assert problem["stores"] == {"event_log": "down", "read_models": "down"}, problem
    assert int(headers["Retry-After"]) >= 1

    # The CLI says so in one line, exit code 75 (try again later); a write it generated an
    # id for names the id to send it again with.
    assert cli_read_done.returncode == 75, cli_read_done.stderr
    assert cli_read_done.stderr.startswith("Error: the ledger's database does not answer (")
    assert cli_read_done.stderr.count("\n") == 1 and "Traceback" not in cli_read_done.stderr
    assert cli_write_error.exit_code == 75
    assert re.search(
        r"run the command again with --id [0-9a-f-]{36},", cli_write_error.format_message()
    )

    # `projections follow` outlived both outages: alone (no reader left), it brings the read
    # models up to a write made now.
    assert follower.poll() is None, (tmp_path / "follow.log").read_text()
    run(
        "adjust",
        "--program",
        "NTM",
        "--kind",
        "SN",
        "--source",
        "NSTW",
        "--year",
        "2025",
        "--holder",
        "TW",
        "--amount",
        "1000",
        "--decision",
        "QĐ 9/QĐ-TTg",
        "--id",
        "last",
    )
    deadline = time.monotonic() + DEADLINE_S
    while True:
        state = json.loads(run("projections", "status", "--format", "json"))[0]
        if state["position"] >= state["head"]:
            break
        assert time.monotonic() < deadline, (state, (tmp_path / "follow.log").read_text())
        time.sleep(0.2)
    stack.close()
    followed = (tmp_path / "follow.log").read_text()
    assert "the database does not answer" in followed, followed
    assert "the database answers again" in followed, followed
    assert "Traceback" not in followed, followed

    # A write whose answer was lost, sent again with its id, gets the first receipt back.
    with served(url, tmp_path / "server-after.log") as (base, _):
        status, first, _ = send(f"{base}/movements/lost-answer", token)
        assert status == 200, first
        status, again, headers = send(f"{base}/adjustments", token, lost)
        assert (status, again, headers.get("Idempotent-Replayed")) == (201, first, "true")
        # So does a write that was acknowledged: those in flight as the database crashed or
        # stopped, and the first few.
        acknowledged_answers = [a for a in answers if a.kind == "write" and a.status == 201]
        spanning = [
            a
            for a in acknowledged_answers
            if any(a.started < moment < a.ended for moment in (crashed, halted))
        ]
        for answer in acknowledged_answers[:3] + spanning:
            status, again, headers = send(f"{base}/adjustments", token, answer.movement)
            assert (status, again) == (201, answer.body)
            assert headers.get("Idempotent-Replayed") == "true"
        # So does every write that was answered 503 (it may or may not have been recorded):
        # sent again it is recorded, at most once.
        unanswered = [a for a in answers if a.kind == "write" and a.status != 201]
        for answer in unanswered:
            status, receipt, _ = send(f"{base}/adjustments", token, answer.movement)
            assert status == 201, receipt
            assert answer.movement is not None
            assert receipt["movement_id"] == answer.movement["movement_id"]

    # Every acknowledged write is in the log, once; nothing else is.
    acknowledged = {a.movement["movement_id"] for a in answers if a.status == 201 and a.movement}
    retried = {a.movement["movement_id"] for a in unanswered if a.movement}
    ledger = open_ledger(url)
    try:
        recorded = [state["movement_id"] for _, state in ledger.journal()]
    finally:
        ledger.close()
    assert len(recorded) == len(set(recorded))
    assert set(recorded) == acknowledged | retried | {"lost-answer", "last"}
    assert len(acknowledged) > 0 and len(unanswered) > 0


def test_a_server_s_follower_started_while_the_database_is_down_follows_once_it_is_back(
    cluster: tuple[str, Callable[..., None]],
) -> None:
    """A server with replicas keeps its read models current by a follower thread of its
    own (Services.keep_following): a worker that boots while the database is down (both
    restarted together) must still follow once the database answers, not leave the read
    models, and so every replica, frozen."""
    from api.services import Services

    url, control = cluster
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--database", url]).exit_code == 0
    control("halt", "fast")
    services = Services(database=url)
    try:
        services.keep_following()
        time.sleep(CONNECTION_WAIT_S + 1)  # its first steps find the database down
        control("resume")
        written = runner.invoke(
            main, ["units", "add", "TW", "Trung ương", "--level", "central", "--database", url]
        )
        assert written.exit_code == 0, written.output
        deadline = time.monotonic() + DEADLINE_S
        while True:
            state = json.loads(
                runner.invoke(
                    main, ["projections", "status", "--format", "json", "--database", url]
                ).output
            )[0]
            if state["position"] >= state["head"] > 0:
                break
            assert time.monotonic() < deadline, ("the follower did not follow", state)
            time.sleep(0.2)
    finally:
        services.close()
