"""Reads served by a PostgreSQL streaming replica, exactly as current as the caller asks
(issue 18): through the API's routing (api/routing.py) over a real primary and a real
replica (scripts/test starts both; the ``replicated`` fixture gives a fresh ledger on them).

Each test drives the server as a client would (Flask's test client over ``create_app`` with
``read_databases``) and reads which database answered from Ledger-Served-By."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.app import create_app
from api.people import PeopleStore
from api.services import Services, bootstrap
from api.tokens import FAILURES_TABLE
from ledger.storage.settings import FOLLOW_RETRY_S, MIN_POSITION_WAIT_S, REPLICA_CHECK_S
from projections.generations import FOLLOW_LOCK_KEYS
from projections.runner import STATE
from tests.e2e.cli_story import FAILS, Cli, funded, quang_nam
from tests.e2e.test_api import TY, Api, api_over, move, worked_example
from tests.e2e.test_web_pages import PASSWORD, sign_in
from tests.replication import Replicated, replay_paused, replica_halted, wait_for_replay

# Small, so that a lagging replica is seen lagging within the test's patience.
MAX_LAG_S = 2.0


@pytest.fixture
def routed(replicated: Replicated) -> Iterator[tuple[Api, Services, Replicated]]:
    """The worked example on the primary, replayed by the replica, and a server reading
    from the replica."""
    services = bootstrap(
        replicated.primary_url, read_databases=[replicated.replica_url], max_lag_s=MAX_LAG_S
    )
    api = api_over(services)
    worked_example(api)
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    yield api, services, replicated
    services.close()


def read(api: Api, path: str, who: str = "auditor", **headers: str) -> Any:
    return api.client.get(path, headers=api.headers(who, **headers))


def served_by(response: Any) -> str:
    return str(response.headers["Ledger-Served-By"])


def position(response: Any) -> int:
    return int(response.headers["Ledger-Position"])


def eventually(check: Any, timeout: float = 15.0) -> Any:
    """``check()`` once it gives something true, polling; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def test_a_read_without_a_position_is_served_by_the_replica_stating_its_position(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, _ = routed
    head = services.ledger.head_position()
    # The server's follower brings the primary's read models to its writes in the
    # background, and replication brings them here: each answer states the position it
    # was served at, never past what the replica holds, and reaches the head.
    served: list[int] = []

    def at_head() -> Any:
        response = read(api, "/balances")
        assert response.status_code == 200
        if served_by(response) != "replica 1":  # not yet known to be within the bound
            return False
        assert position(response) == response.get_json()["position"] <= head
        served.append(position(response))
        return position(response) == head and response

    eventually(at_head)
    assert served == sorted(served)  # one replica: its position never goes back
    # The server's writes brought the primary's read models up (in the background).
    eventually(lambda: services.projections().state().position == head)
    ready = api.ok(api.client.get("/health/ready"))
    [replica] = ready["replicas"]
    assert replica["replica"] == 1 and replica["status"] == "ok"
    assert 0 <= replica["lag_s"] <= MAX_LAG_S


def test_read_your_write_with_min_position_across_primary_and_replica(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, _, _ = routed
    for n in range(5):
        payment = move(f"ryw-{n}", "2024-07-01", holder="505", amount_vnd=TY, voucher=f"UNC {n}")
        written = api.post("/disbursements", "admin", payment)
        api.ok(written, 201)
        assert served_by(written) == "primary"
        asked = written.headers["Ledger-Position"]
        response = read(api, "/history?holder=505", **{"Min-Position": asked})
        body = api.ok(response)
        assert position(response) >= int(asked)
        assert f"ryw-{n}" in [entry["movement_id"] for entry in body["entries"]]


def test_a_position_past_the_head_is_refused_with_replicas_too(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, replicated = routed
    head = services.ledger.head_position()
    with replay_paused(replicated.replica_url):  # no replica could ever reach it
        response = read(api, "/balances", **{"Min-Position": str(head + 1000)})
    assert response.status_code == 422, response.get_json()
    assert f"position {head + 1000} is past the log's head ({head})" in response.get_json()[
        "detail"
    ]


def test_replay_paused_reads_needing_newer_go_to_the_primary_and_nothing_stale_is_returned(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, replicated = routed
    eventually(lambda: served_by(read(api, "/balances")) == "replica 1")
    before = position(read(api, "/balances"))
    with replay_paused(replicated.replica_url):
        payment = move("paused-1", "2024-07-02", holder="505", amount_vnd=TY, voucher="UNC P")
        asked = position(api.post("/disbursements", "admin", payment))
        assert asked > before
        # Asked for the new position: the replica cannot reach it, the primary answers.
        started = time.monotonic()
        response = read(api, "/history?holder=505", **{"Min-Position": str(asked)})
        waited = time.monotonic() - started
        body = api.ok(response)
        assert served_by(response) == "primary"
        assert position(response) >= asked
        assert "paused-1" in [entry["movement_id"] for entry in body["entries"]]
        assert waited >= MIN_POSITION_WAIT_S * 0.9  # it did wait for the replica first
        # Without a position, the replica answers while within the lag bound, and says
        # the older position it answers at; then it is skipped: the primary answers.
        seen: set[str] = set()
        deadline = time.monotonic() + MAX_LAG_S + 3 * REPLICA_CHECK_S + 2
        while time.monotonic() < deadline:
            response = read(api, "/balances")
            api.ok(response)
            seen.add(served_by(response))
            if served_by(response) == "replica 1":
                assert position(response) < asked
            else:
                assert position(response) >= asked
            time.sleep(0.1)
        assert served_by(response) == "primary", seen
        lagging = api.ok(api.client.get("/health/ready"))["replicas"][0]
        assert lagging["status"] == "lagging" and lagging["lag_s"] > MAX_LAG_S
    # Replay resumed: the replica catches up and serves again, at the new position.
    eventually(
        lambda: served_by(r := read(api, "/balances")) == "replica 1" and position(r) >= asked
    )
    assert services.ledger.head_position() >= asked


def test_a_stopped_replica_leaves_reads_to_the_primary_until_it_returns(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, _, replicated = routed
    eventually(lambda: served_by(read(api, "/balances")) == "replica 1")
    with replica_halted(replicated.replica_dir):
        for _ in range(20):
            response = read(api, "/balances")
            api.ok(response)  # never a 503: the primary serves
            assert served_by(response) == "primary"
        down = api.ok(api.client.get("/health/ready"))
        assert down["status"] == "ok"
        assert down["replicas"][0]["status"] == "down"
        assert "does not answer" in down["replicas"][0]["reason"]
    eventually(lambda: served_by(read(api, "/balances")) == "replica 1", timeout=30)


def test_a_token_revoked_on_the_primary_is_refused_through_the_replica_within_the_bound(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, replicated = routed
    eventually(lambda: served_by(read(api, "/balances")) == "replica 1")
    # Replay paused: the replica cannot learn of the revocation, so a refusal after the
    # bound can only come from the replica being skipped.
    with replay_paused(replicated.replica_url):
        services.tokens().revoke("auditor")
        revoked_at = time.monotonic()
        while True:
            response = read(api, "/balances")
            elapsed = time.monotonic() - revoked_at
            if response.status_code == 401:
                break
            # Still accepted: only by the replica, and only within the bound.
            assert served_by(response) == "replica 1"
            assert elapsed <= MAX_LAG_S + REPLICA_CHECK_S
            time.sleep(0.05)
        after_bound = time.monotonic() + MAX_LAG_S + REPLICA_CHECK_S - elapsed
        time.sleep(max(0.0, after_bound - time.monotonic()))
        assert read(api, "/balances").status_code == 401
    # Once the replica has replayed the revocation it serves reads again, and refuses the
    # token itself (another token waits for it: each refusal is counted, and too many from
    # one address are throttled).
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    eventually(lambda: served_by(read(api, "/balances", "admin")) == "replica 1")
    refused = read(api, "/balances")
    assert (refused.status_code, served_by(refused)) == (401, "replica 1")
    assert "unknown or was revoked" in refused.get_json()["detail"]


def test_a_replica_never_writes_and_writes_never_go_to_it(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, _ = routed
    eventually(lambda: served_by(read(api, "/balances")) == "replica 1")
    # A wrong token through the replica is counted on the primary (a replica refuses writes).
    for _ in range(3):
        response = api.client.get("/balances", headers={"Authorization": "Bearer not-a-token"})
        assert response.status_code == 401
    count = services.store.one(f"SELECT sum(failures) FROM {FAILURES_TABLE}")
    assert count is not None and count[0] >= 3
    payment = move("w-after", "2024-07-03", holder="505", amount_vnd=TY, voucher="UNC W")
    written = api.post("/disbursements", "admin", payment)
    api.ok(written, 201)
    assert served_by(written) == "primary"


def test_the_cli_reads_a_replica_and_says_where_and_at_which_position(
    replicated: Replicated,
) -> None:
    primary = funded(quang_nam(Cli(replicated.primary_url)))
    primary.out("balance", "--holder", "505")  # the primary's read models catch up
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    asked = ["balance", "--holder", "505", "--format", "json"]
    on_primary = primary.run(*asked)
    routed = primary.run(*asked, "--read-database", replicated.replica_url)
    assert routed.stdout == on_primary.stdout
    assert "Read from replica 1, at log position" in routed.stderr

    # Recorded on the primary by the command line, which does not catch its read models
    # up: on the replica they are behind its log. Read on the replica directly (an
    # auditor's laptop), it answers at its read models' position and says so; it never
    # tries to write there.
    primary.disburse("505", 7 * TY, voucher="UNC R", date="2024-03-05")
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    replica = Cli(replicated.replica_url)
    direct = replica.run(*asked)
    assert direct.stdout == on_primary.stdout  # not yet the new payment: the older position
    assert "Read from a standby (a streaming replica), at log position" in direct.stderr
    status = replica.json("projections", "status")
    assert status[0]["behind"] > 0

    # A write sent to the replica: one line, nothing recorded.
    refused = replica.disburse("505", TY, voucher="UNC X", date="2024-03-06", expect=FAILS)
    assert "is a standby (a streaming replica) and takes no write" in refused.stderr
    assert "Traceback" not in refused.output
    assert len(refused.stderr.strip().splitlines()) == 1


def test_the_cli_reads_the_primary_when_a_replica_does_not_answer_and_says_why_in_one_line(
    replicated: Replicated,
) -> None:
    primary = funded(quang_nam(Cli(replicated.primary_url)))
    asked = ["balance", "--holder", "505", "--format", "json"]
    on_primary = primary.run(*asked)
    nobody = socket.socket()  # bound, never listening: a connection to it is refused
    nobody.bind(("127.0.0.1", 0))
    with nobody:
        port = nobody.getsockname()[1]
        down = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        # A process of its own, as an auditor runs it: what its loggers print is seen.
        routed = subprocess.run(
            [str(Path(sys.executable).parent / "budget-ledger"), *asked]
            + ["--database", replicated.primary_url, "--read-database", down],
            capture_output=True,
            text=True,
            check=False,
        )
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout == on_primary.stdout
    # Not the connection pool's own warnings: the command's one line, naming the replica
    # and why it cannot be reached.
    assert routed.stderr == (
        f"Read from the primary: replica 1 (postgresql://postgres@127.0.0.1:{port}/postgres) "
        "does not answer: connection refused; is the server running?\n"
    )


def test_the_cli_reads_the_primary_when_a_replica_s_read_models_cannot_answer(
    replicated: Replicated,
) -> None:
    primary = funded(quang_nam(Cli(replicated.primary_url)))
    asked = ["balance", "--holder", "505", "--format", "json"]
    on_primary = primary.run(*asked)
    # The read models' state gone on the primary and on its replica: the replica, which
    # never writes, cannot make them; the primary can.
    with psycopg.connect(replicated.primary_url, autocommit=True) as db:
        db.execute(f"DROP TABLE {STATE}")
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    routed = primary.run(*asked, "--read-database", replicated.replica_url)
    assert routed.stdout == on_primary.stdout
    assert routed.stderr.startswith("Read from the primary: replica 1 (")
    assert "is not ready: its read models are not of this version's layout" in routed.stderr
    assert len(routed.stderr.splitlines()) == 1


def test_a_server_whose_primary_is_a_standby_answers_503_until_it_is_a_primary_again(
    replicated: Replicated,
) -> None:
    """A failover demotes or replaces the primary under a running server: reads that would
    bring its read models up to date get 503 saying why, each time (the server does not
    settle into reading a standby for good, nor answer 500)."""
    primary = funded(quang_nam(Cli(replicated.primary_url)))
    token = primary.out("tokens", "create", "--name", "kt", "--role", "viewer").split()[-1]
    primary.out("balance", "--holder", "505")
    primary.disburse("505", TY, voucher="UNC S", date="2024-03-05")  # not caught up
    wait_for_replay(replicated.primary_url, replicated.replica_url)
    services = bootstrap(replicated.replica_url)
    try:
        client = create_app(services=services).test_client()
        for _ in range(2):
            refused = client.get("/balances", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 503, refused.get_json()
            assert "is a standby (a streaming replica)" in refused.get_json()["detail"]
    finally:
        services.close()


def test_a_person_s_pages_are_read_from_the_replica_and_a_disabled_person_is_refused_at_once(
    routed: tuple[Api, Services, Replicated],
) -> None:
    api, services, _ = routed
    people = PeopleStore(services.store)
    people.add("lan", "viewer", None, PASSWORD)
    browser = api.client
    assert sign_in(browser, "lan").status_code == 303  # a write: the primary's
    page = eventually(lambda: (r := browser.get("/?holder=49")).status_code == 200
                      and served_by(r) == "replica 1" and r)  # fmt: skip
    assert "Quảng Nam" in page.data.decode()
    # Sessions are the primary's: disabling the person ends them on the next page, whether
    # or not the replica has replayed it.
    people.disable("lan")
    assert browser.get("/?holder=49").status_code in (302, 303)


def test_one_server_process_follows_the_log_for_all_of_them(replicated: Replicated) -> None:
    """With replicas, a server's writes bring the primary's read models up through one
    follower among its processes (the follow lock): the others stand by."""
    processes = [
        bootstrap(replicated.primary_url, read_databases=[replicated.replica_url])
        for _ in range(3)
    ]
    try:
        for services in processes:
            services.keep_following()
        ledger = processes[1].ledger
        ledger.register_holder("TW", "Trung ương", "central", None, actor="setup")
        head = ledger.head_position()
        eventually(lambda: processes[2].projections().state().position == head)
        holders = processes[0].store.one(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s"
            " AND l.granted AND d.datname = current_database()",
            FOLLOW_LOCK_KEYS,
        )
        assert holders == (1,)

        # Those standing by try again every second on the session they have: the same
        # three backends, not a new connection a try.
        def trying() -> set[int]:
            rows = processes[0].store.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'SELECT pg_try_advisory_lock%%'"
            )
            return {int(pid) for (pid,) in rows}

        before = trying()
        time.sleep(2.5 * FOLLOW_RETRY_S)
        assert len(before) == 3 and trying() == before
    finally:
        for services in processes:
            services.close()
