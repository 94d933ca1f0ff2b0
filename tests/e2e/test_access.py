"""Who may do what over HTTP: adjustments of central funds, reading a movement that touches a
line in scope, expiring tokens and repeated failed authentications, through the Flask test
client on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import http.client
import json
import multiprocessing
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import sleep
from typing import Any

import pytest

from api import create_app
from api.services import Services, bootstrap
from api.tokens import FAILURE_WINDOW_S, FAILURES_MAX, TokenStore, tables_ready
from ledger.application import open_ledger
from ledger.domain.values import VIETNAM_TIME, today_in_vietnam
from ledger.storage.sql import ViewStore
from tests.e2e.cli_story import Cli
from tests.e2e.test_api import Api, api, move, worked_example  # noqa: F401 (fixture)
from tests.e2e.test_server import served, workers_of

HOLDERS = (
    ("TW", "Trung ương", "central", None),
    ("49", "Tỉnh Quảng Nam", "province", "TW"),
    ("505", "Huyện Đông Giang", "district", "49"),
    ("504", "Huyện Tây Giang", "district", "49"),
)
# The token's scope against the adjusted holder 505: none, its own, an ancestor, outside.
SCOPES = {"none": None, "own": "505", "ancestor": "49", "outside": "504"}


@pytest.fixture
def fresh(services: Services) -> tuple[Api, ViewStore]:
    """Holders only, no tokens: each test makes the tokens it needs."""
    ledger = services.ledger
    for code, name, level, parent in HOLDERS:
        ledger.register_holder(code, name, level, parent, actor="setup")
    app = create_app(services=services)
    app.config["TESTING"] = True
    return Api(app.test_client(), ledger, {}), services.store


def may_adjust(role: str, source: str, scope: str) -> bool:
    """The rule under test, written out: approvers and admins adjust; central money (NSTW)
    only with a token over the whole ledger, local money (NSDP, KHAC) within the scope."""
    if role not in ("approver", "admin") or scope == "outside":
        return False
    return source != "NSTW" or scope == "none"


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("source", ["NSTW", "NSDP", "KHAC"])
@pytest.mark.parametrize("role", ["viewer", "clerk", "approver", "admin"])
def test_who_may_adjust_which_source_where(
    fresh: tuple[Api, ViewStore], role: str, source: str, scope: str
) -> None:
    web, store = fresh
    name = f"{role}-{scope}"
    _, web.tokens[name] = TokenStore(store).create(name, role, SCOPES[scope])
    head = web.ledger.head_position()
    body = {
        **move("adj-1", "2024-01-02", holder="505", amount_vnd=10**15, decision="QĐ 1"),
        "source": source,
    }
    response = web.post("/adjustments", name, body)
    if may_adjust(role, source, scope):
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["actor"] == name
        assert web.ledger.head_position() > head
        return
    assert response.status_code == 403, response.get_json()
    assert response.content_type == "application/problem+json"
    detail = response.get_json()["detail"]
    assert detail.endswith("Nothing was recorded.")
    if role in ("approver", "admin") and scope != "outside":
        assert "central funds (NSTW)" in detail and "without a scope" in detail
    assert web.ledger.head_position() == head


def test_a_scoped_approver_cannot_lower_central_funds_either(
    fresh: tuple[Api, ViewStore],
) -> None:
    web, store = fresh
    tokens = TokenStore(store)
    _, web.tokens["admin"] = tokens.create("admin", "admin", None)
    _, web.tokens["approver-505"] = tokens.create("approver-505", "approver", "505")
    raise_ = move("a1", "2024-01-02", holder="505", amount_vnd=10 * 10**9, decision="QĐ 1")
    web.ok(web.post("/adjustments", "admin", raise_), 201)
    head = web.ledger.head_position()
    lower = move("a2", "2024-01-03", holder="505", amount_vnd=-10 * 10**9, decision="QĐ 2")
    assert web.post("/adjustments", "approver-505", lower).status_code == 403
    assert web.ledger.head_position() == head


def test_a_role_is_checked_after_the_schema_and_before_the_ledger(
    fresh: tuple[Api, ViewStore],
) -> None:
    web, store = fresh
    _, web.tokens["clerk"] = TokenStore(store).create("clerk", "clerk", None)
    to_itself = move("r1", "2024-01-02", from_holder="49", to_holder="49", decision="QĐ 1")
    # The ledger would refuse it (the two holders must differ), but a clerk may not allocate.
    assert web.post("/allocations", "clerk", {**to_itself, "amount_vnd": 5}).status_code == 403
    # A body the schema refuses (no amount) is refused as such, whoever sends it.
    assert web.post("/allocations", "clerk", to_itself).status_code == 422


def test_a_movement_touching_a_line_in_scope_is_readable(api: Api) -> None:  # noqa: F811
    worked_example(api)
    store = ViewStore(api.ledger.database or "")
    _, api.tokens["viewer-504"] = TokenStore(store).create("viewer-504", "viewer", "504")
    store.close()
    # The allocation 49 -> 505 that funded 505's line: 505 is its receiving side.
    funded = api.ok(api.get("/movements/w3-505", "viewer-505"))
    assert [line["line"]["holder"] for line in funded["lines"]] == ["49", "505"]
    # The movement is readable whole, but not the figures of a line outside the scope: 49's
    # available amount is not 505's business (GET /balances?holder=49 is 403 for it too).
    giver, receiver = funded["lines"]
    assert giver["available_vnd"] is None and isinstance(receiver["available_vnd"], int)
    assert api.get("/balances", "viewer-505", holder="49").status_code == 403
    unscoped = api.ok(api.get("/movements/w3-505", "admin"))
    assert all(isinstance(line["available_vnd"], int) for line in unscoped["lines"])
    # The reallocation 505 -> 504, from either side.
    assert api.ok(api.get("/movements/w6", "viewer-505"))["movement_id"] == "w6"
    assert api.ok(api.get("/movements/w6", "viewer-504"))["movement_id"] == "w6"
    # Its history lists what it can open.
    listed = {e["movement_id"] for e in api.ok(api.get("/history", "viewer-505"))["entries"]}
    for movement_id in listed:
        assert api.get(f"/movements/{movement_id}", "viewer-505").status_code == 200
    # A movement that touches no line in scope stays closed; an unknown id is 404.
    for movement_id, who in (("w8", "viewer-505"), ("w3-505", "viewer-504"), ("w5", "clerk-504")):
        refused = api.get(f"/movements/{movement_id}", who)
        assert refused.status_code == 403, (movement_id, who)
        assert "no line" in refused.get_json()["detail"]
    assert api.get("/movements/nope", "viewer-505").status_code == 404


def test_a_token_lives_through_its_expiry_day_then_is_refused(
    fresh: tuple[Api, ViewStore], database: str
) -> None:
    web, store = fresh
    cli = Cli(database)
    today = today_in_vietnam()
    created = cli.token("kt-tam", "viewer", expires=today.isoformat())
    assert f"valid through {today} (Vietnam time)" in created.output
    web.tokens["kt-tam"] = created.output.strip().splitlines()[-1]
    assert web.get("/balances", "kt-tam").status_code == 200
    # It stops at the next midnight in Vietnam (17:00 UTC), and the list says so.
    listed = cli.json("tokens", "list")
    midnight = datetime.combine(today + timedelta(days=1), time(), VIETNAM_TIME)
    assert listed[0]["expires_at"] == midnight.astimezone(UTC).isoformat()
    table = cli.out("tokens", "list")
    assert "expires" in table and "kt-tam" in table
    # The day passes (the row's expiry is moved into the past, as the clock would move).
    store.execute(
        "UPDATE api_tokens SET expires_at = ? WHERE name = ?",
        ("2026-03-31T17:00:00+00:00", "kt-tam"),
    )
    refused = web.get("/balances", "kt-tam")
    assert refused.status_code == 401
    assert refused.content_type == "application/problem+json"
    assert refused.get_json()["detail"] == (
        "token 'kt-tam' expired at the end of 2026-03-31 (Vietnam time); ask an admin for a new one"
    )


def test_an_expiry_in_the_past_or_malformed_is_refused(
    fresh: tuple[Api, ViewStore], database: str
) -> None:
    cli = Cli(database)
    yesterday = today_in_vietnam() - timedelta(days=1)
    for name, value in (("t1", yesterday.isoformat()), ("t2", "2026-13-01"), ("t3", "")):
        refused = cli.token(name, "viewer", expires=value, expect=1)
        assert "expires" in refused.output and "Traceback" not in refused.output
    assert cli.json("tokens", "list") == []


OLD_TOKEN_TABLE = (
    "CREATE TABLE api_tokens (name TEXT PRIMARY KEY, role TEXT NOT NULL, scope TEXT,"
    " token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)"
)


def test_a_token_table_made_before_expiry_keeps_working(database: str) -> None:
    """A database whose api_tokens table has no expires_at: its tokens keep working, over
    HTTP and on the command line, and new tokens may expire."""
    services = bootstrap(database, create=True)
    store = ViewStore(database)
    store.execute(OLD_TOKEN_TABLE)
    secret = "blt_made-before-expiry"
    store.execute(
        "INSERT INTO api_tokens (name, role, scope, token_sha256, created_at)"
        " VALUES ('old', 'admin', NULL, ?, '2025-01-01T00:00:00+00:00')",
        (hashlib.sha256(secret.encode()).hexdigest(),),
    )
    store.close()
    app = create_app(services=services)
    try:
        response = app.test_client().get("/balances", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.get_json()
    finally:
        services.close()
    cli = Cli(database)
    listed = cli.json("tokens", "list")
    assert [(t["name"], t["expires_at"]) for t in listed] == [("old", None)]
    cli.token("new", "viewer", expires="2099-12-31")


def open_tokens(database: str, barrier: Any) -> None:
    barrier.wait()
    store = ViewStore(database)
    TokenStore(store)
    store.close()


def test_processes_upgrading_an_old_token_table_together_do_not_race(database: str) -> None:
    """Eight processes open the token tables of a database made before expiry at once: one
    adds the column and the failures table, the others wait and find them made."""
    open_ledger(database, create=True).close()
    store = ViewStore(database)
    store.execute(OLD_TOKEN_TABLE)
    store.close()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(8)
    processes = [context.Process(target=open_tokens, args=(database, barrier)) for _ in range(8)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * 8
    store = ViewStore(database)
    assert tables_ready(store)
    store.close()


def test_repeated_failures_from_one_address_are_slowed_down(
    fresh: tuple[Api, ViewStore],
) -> None:
    web, store = fresh
    _, good = TokenStore(store).create("admin", "admin", None)

    def get(secret: str | None, address: str) -> Any:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return web.client.get("/balances", headers=headers, environ_base={"REMOTE_ADDR": address})

    for _ in range(FAILURES_MAX):
        assert get("blt_wrong", "10.0.0.1").status_code == 401
    refused = get("blt_wrong", "10.0.0.1")
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.get_json()["type"] == "/problems/too-many-attempts"
    assert 0 < int(refused.headers["Retry-After"]) <= FAILURE_WINDOW_S
    assert f"{FAILURES_MAX} failed" in refused.get_json()["detail"]
    # While the address waits, even a good token from it waits; other addresses do not.
    assert get(good, "10.0.0.1").status_code == 429
    assert get(good, "10.0.0.2").status_code == 200
    assert get("blt_wrong", "10.0.0.2").status_code == 401
    # No token at all is not a guess: not counted. Successes write nothing.
    for _ in range(FAILURES_MAX + 1):
        assert get(None, "10.0.0.3").status_code == 401
        assert get(good, "10.0.0.4").status_code == 200
    rows = store.execute("SELECT address, failures FROM auth_failures ORDER BY address")
    assert rows == [("10.0.0.1", FAILURES_MAX), ("10.0.0.2", 1)]
    # The window passes (moved back as the clock would move): the address may try again.
    store.execute("UPDATE auth_failures SET window_start = window_start - ?", (FAILURE_WINDOW_S,))
    assert get(good, "10.0.0.1").status_code == 200
    assert get("blt_wrong", "10.0.0.1").status_code == 401
    assert store.one("SELECT failures FROM auth_failures WHERE address = '10.0.0.1'") == (1,)


def test_expired_and_revoked_tokens_count_as_failures(fresh: tuple[Api, ViewStore]) -> None:
    web, store = fresh
    tokens = TokenStore(store)
    _, web.tokens["gone"] = tokens.create("gone", "viewer", None)
    tokens.revoke("gone")
    _, web.tokens["late"] = tokens.create("late", "viewer", None, today_in_vietnam())
    store.execute("UPDATE api_tokens SET expires_at = '2026-01-01T17:00:00+00:00'")
    for attempt in range(FAILURES_MAX):
        assert web.get("/balances", ("gone", "late")[attempt % 2]).status_code == 401
    assert web.get("/balances", "late").status_code == 429


def test_failures_spread_over_server_workers_are_counted_together(
    database: str, tmp_path: Path
) -> None:
    """The real server, two worker processes: failures sent half to each worker (one kept-
    alive connection per worker, each connection's owner read from /proc) trip the default
    limit together, though neither worker saw it alone; a good token from another loopback
    address still works."""
    cli = Cli(database).init()
    good = cli.token("so-tai-chinh", "admin").output.strip().splitlines()[-1]
    with served(database, tmp_path / "server.log", workers=2) as (base, arbiter):
        port = int(base.rsplit(":", 1)[1])
        workers = workers_of(arbiter)
        assert len(workers) == 2
        connections = {pid: connection_to(port, pid, workers) for pid in workers}
        for attempt in range(FAILURES_MAX):
            pid = workers[attempt % 2]
            status, _, _ = ask(connections[pid], "blt_wrong")
            assert status == 401
            # The answer came from that worker: its connection is still the one it owns.
            assert owner(port, connections[pid], workers) == pid
        for pid in workers:
            status, body, headers = ask(connections[pid], good)
            assert status == 429, body
            assert body["type"] == "/problems/too-many-attempts"
            assert 0 < int(headers["Retry-After"]) <= FAILURE_WINDOW_S
        other = http.client.HTTPConnection("127.0.0.1", port, source_address=("127.0.0.2", 0))
        status, body, _ = ask(other, good)
        assert status == 200, body
        for connection in [*connections.values(), other]:
            connection.close()


def ask(connection: http.client.HTTPConnection, token: str) -> tuple[int, Any, dict[str, str]]:
    """GET /balances on a kept-alive connection."""
    connection.request("GET", "/balances", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    return response.status, json.loads(response.read()), dict(response.headers)


def owner(port: int, connection: http.client.HTTPConnection, workers: list[int]) -> int | None:
    """The worker process holding the server side of ``connection``."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == port and int(remote, 16) == client_port and fields[3] == "01":
            inodes.add(fields[9])
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd)[8:-1] in inodes:
                    return pid
            except OSError:
                continue
    return None


def connection_to(port: int, pid: int, workers: list[int]) -> http.client.HTTPConnection:
    """A connection the kernel gave to worker ``pid`` (new ones are hashed over workers)."""
    for _ in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.connect()
        # The worker accepts it shortly after the handshake; until then no process holds it.
        for _ in range(50):
            found = owner(port, connection, workers)
            if found is not None:
                break
            sleep(0.02)
        if found == pid:
            return connection
        connection.close()
    raise AssertionError(f"no connection reached worker {pid}")


def test_a_reused_id_of_a_movement_outside_scope_says_nothing_of_it(api: Api) -> None:  # noqa: F811
    """The 409 for a reused movement id names who recorded the first, when, and which fields
    differ: through a token that may not read that movement, it would let a clerk probe
    another holder's payment field by field. Such a clerk hears only that the id is taken."""
    worked_example(api)
    before = api.ledger.head_position()
    probe = {
        "program": "GNBV", "kind": "DTPT", "source": "NSTW", "year": 2024, "holder": "505",
        "amount_vnd": 120 * 10**9, "voucher": "KB 1", "effective_date": "2024-06-01",
        "movement_id": "w8",  # 504's payment, outside clerk-505's scope
    }  # fmt: skip
    refused = api.post("/disbursements", "clerk-505", probe)
    assert refused.status_code == 409
    detail = refused.get_json()["detail"]
    assert "w8" in detail and "choose a new id" in detail
    assert "differs" not in detail and "clerk-504" not in detail, detail
    # Reusing an id of one's own scope still says what differs.
    own = api.post("/disbursements", "clerk-505", {**probe, "movement_id": "w5"})
    assert own.status_code == 409 and "differs in: amount_vnd" in own.get_json()["detail"]
    assert api.ledger.head_position() == before
