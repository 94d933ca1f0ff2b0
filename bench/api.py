"""Benchmark: the HTTP API under load, against ``budget-ledger serve`` on PostgreSQL.

It sets up a ledger (a province, its districts and communes, every commune's line funded
through real allocations), starts ``budget-ledger serve`` on a loopback port, and drives it
with CLIENTS concurrent keep-alive connections (a small asyncio HTTP/1.1 client, so the load
generator costs little of this machine's CPU). For each scenario it prints requests per
second and p50/p99 latency:
  - balance reads: GET /balances for one commune's lines at a date;
  - progress reports: GET /reports/progress for the province, one row per district;
  - disbursements: POST /disbursements, each to a random commune's line, each a new movement.
Targets (issue 4): reads >= 1,000 req/s with p99 < 50 ms; disbursements >= 300 req/s with
p99 < 100 ms.

Usage:
  .venv/bin/python bench/api.py [--postgres URL] [--seconds 10] [--clients 32] [--workers N]

Without --postgres (or BUDGET_LEDGER_BENCH_POSTGRES) it starts a throwaway PostgreSQL with
scripts/pg-throwaway (fsync on) and stops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.tokens import TokenStore  # noqa: E402
from bench.cpu import free_port, listening_sockets, postmaster_pid, tree_cpu_s  # noqa: E402
from bench.pg import bench_database  # noqa: E402
from ledger.application import BudgetLedger, open_ledger  # noqa: E402
from ledger.domain.movements import movement  # noqa: E402
from ledger.domain.values import LineKey  # noqa: E402
from ledger.storage.sql import ViewStore  # noqa: E402
from projections.runner import Projections  # noqa: E402

DISTRICTS = 20
COMMUNES_PER_DISTRICT = 10
YEAR = 2025
TY = 10**9
PROGRAMS = ("NTM", "GNBV")
KINDS = ("DTPT", "SN")
WARM_UP_S = 2.0
SERVED_BY = "Ledger-Served-By"  # api/routing.py: "primary" or "replica N"

Request = Callable[[int], bytes]


def build_ledger(database: str) -> tuple[list[str], list[str]]:
    """Holders and funded lines; returns (district codes, commune codes)."""
    ledger = open_ledger(database, create=True)
    try:
        ledger.register_holder("TW", "Trung ương", "central", None, actor="bench")
        ledger.register_holder("49", "Tỉnh", "province", "TW", actor="bench")
        districts, communes = [], []
        for d in range(DISTRICTS):
            district = f"5{d:02d}"
            ledger.register_holder(district, f"Huyện {d}", "district", "49", actor="bench")
            districts.append(district)
            for c in range(COMMUNES_PER_DISTRICT):
                commune = f"2{d:02d}{c:02d}"
                ledger.register_holder(commune, f"Xã {d}.{c}", "commune", district, actor="bench")
                communes.append(commune)
        for program in PROGRAMS:
            for kind in KINDS:
                fund(ledger, program, kind, districts, communes)
    finally:
        ledger.close()
    return districts, communes


def set_up(url: str) -> tuple[list[str], list[str], str]:
    """``build_ledger``, its read models caught up, and an admin token: the districts, the
    communes and the token's secret."""
    districts, communes = build_ledger(url)
    ledger = open_ledger(url)
    Projections(ledger, url).catch_up()
    store = ViewStore(url)
    _, token = TokenStore(store).create("bench", "admin", None)
    store.close()
    ledger.close()
    return districts, communes, token


def fund(
    ledger: BudgetLedger, program: str, kind: str, districts: list[str], communes: list[str]
) -> None:
    def move(
        action: str, holder: str, amount_vnd: int, to: str | None = None, **kw: object
    ) -> None:
        key = LineKey(program, kind, "NSTW", YEAR, holder)
        request = movement(
            action,
            movement_id=f"setup-{program}-{kind}-{action}-{holder}-{to}",
            effective_date=date(YEAR, 1, 10),
            line=key,
            counterpart=to,
            amount_vnd=amount_vnd,
            **kw,  # type: ignore[arg-type]
        )
        ledger.record(request, actor="bench")

    per_commune = 1000 * TY
    move("adjust", "TW", per_commune * len(communes), decision="QĐ bench")
    move("allocate", "TW", per_commune * len(communes), to="49", decision="QĐ bench")
    for district in districts:
        move("allocate", "49", per_commune * COMMUNES_PER_DISTRICT, to=district, decision="QĐ")
    for commune in communes:
        move("allocate", f"5{commune[1:3]}", per_commune, to=commune, decision="QĐ")


def serve_command(database: str, port: int, workers: int, threads: int | None) -> list[str]:
    budget_ledger = str(Path(sys.executable).parent / "budget-ledger")
    return [budget_ledger, "serve", "--database", database, *server_flags(port, workers, threads)]


def floor_command(port: int, workers: int, threads: int | None) -> list[str]:
    floor = str(ROOT / "bench" / "stack_floor.py")
    return [sys.executable, floor, *server_flags(port, workers, threads)]


def server_flags(port: int, workers: int, threads: int | None) -> list[str]:
    """What both servers are told, so that they run alike (threads: serve's default if None)."""
    return [
        "--port",
        str(port),
        "--workers",
        str(workers),
        *(["--threads", str(threads)] if threads else []),
    ]


def start_server(
    command: list[str], port: int, workers: int, probe: str
) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2):
                pass
        except OSError:
            time.sleep(0.2)
            continue
        # One worker answered; the clients connect once, so wait until every worker has its
        # listening socket, or the first would keep them all.
        listening = listening_sockets(port)
        if listening is None or listening >= workers:
            return server
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response: its status and its head (status line and headers); the body is read
    and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status, head


async def read_response(reader: asyncio.StreamReader) -> int:
    return (await read_reply(reader))[0]


def header(head: bytes, name: str) -> str | None:
    """A response header's value from ``read_reply``'s head (None: absent)."""
    wanted = name.lower().encode() + b":"
    for line in head.split(b"\r\n")[1:]:
        if line[: len(wanted)].lower() == wanted:
            return line[len(wanted) :].strip().decode()
    return None


async def connection(
    port: int,
    request: Request,
    counter: list[int],
    stop_at: float,
    warm_until: float,
    latencies: list[float],
    statuses: Counter[int],
    served: Counter[str] | None = None,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            counter[0] += 1
            writer.write(request(counter[0]))
            status, head = await read_reply(reader)
            finished = time.perf_counter()
            if started >= warm_until:
                latencies.append(finished - started)
                statuses[status] += 1
                if served is not None:
                    served[header(head, SERVED_BY) or "?"] += 1
    finally:
        writer.close()


async def drive(
    port: int,
    request: Request,
    clients: int,
    seconds: float,
    processes: list[int],
    served: Counter[str] | None = None,
) -> dict[str, float]:
    """CLIENTS connections sending ``request`` for WARM_UP_S then ``seconds``; ``served``, if
    given, counts the answers measured by their Ledger-Served-By header."""
    cpu_s_before = [*(tree_cpu_s(pid) for pid in processes), time.process_time()]
    now = time.perf_counter()
    warm_until, stop_at = now + WARM_UP_S, now + WARM_UP_S + seconds
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = [0]
    await asyncio.gather(
        *(
            connection(port, request, counter, stop_at, warm_until, latencies, statuses, served)
            for _ in range(clients)
        )
    )
    cpu_s_after = [*(tree_cpu_s(pid) for pid in processes), time.process_time()]
    cpu_s = [after - before for after, before in zip(cpu_s_after, cpu_s_before, strict=True)]
    latencies.sort()
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "not_ok": len(latencies) - ok,
        # Warm-up included: CPU milliseconds per request sent, server and PostgreSQL apart.
        "cpu_ms": [1000 * spent / counter[0] for spent in cpu_s],
        "statuses": dict(statuses),  # type: ignore[dict-item]
    }


def get(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


def post(path: str, token: str, body: dict[str, object]) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data


def scenarios(token: str, districts: list[str], communes: list[str]) -> dict[str, Request]:
    rng = random.Random(7)
    run = os.urandom(3).hex()

    def balance(_: int) -> bytes:
        day = date(YEAR, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        return get(f"/balances?holder={rng.choice(communes)}&as_of={day}", token)

    def report(_: int) -> bytes:
        day = date(YEAR, rng.randint(2, 12), rng.randint(1, 28)).isoformat()
        return get(f"/reports/progress?holder=49&as_of={day}", token)

    def disbursement(number: int) -> bytes:
        body = {
            "program": rng.choice(PROGRAMS),
            "kind": rng.choice(KINDS),
            "source": "NSTW",
            "year": YEAR,
            "holder": rng.choice(communes),
            "amount_vnd": rng.randint(1, 1000) * 10**6,
            "voucher": f"UNC {number}",
            "effective_date": date(YEAR, rng.randint(2, 12), rng.randint(1, 28)).isoformat(),
            "movement_id": f"bench-{run}-{number}",
        }
        return post("/disbursements", token, body)

    return {"balance reads": balance, "progress reports": report, "disbursements": disbursement}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, help="threads per worker [serve's default]")
    args = parser.parse_args()
    with bench_database(args.postgres) as (url, _):
        started = time.perf_counter()
        districts, communes, token = set_up(url)
        print(
            f"set up {len(communes)} communes' funded lines in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        print(
            f"{args.workers} workers, {args.threads or 'default'} threads; {args.clients} "
            f"clients, {WARM_UP_S:.0f} s warm-up then {args.seconds:.0f} s per scenario",
            flush=True,
        )
        print(
            f"{'scenario':<18} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  "
            "CPU ms/request (server + PostgreSQL, client)  statuses"
        )
        requests = scenarios(token, districts, communes)
        figures = {}
        # First the stack alone (bench/stack_floor.py), with the same server settings and
        # clients, so that the API's figures can be read against what this machine gives now.
        port = free_port()
        floor_server = start_server(
            floor_command(port, args.workers, args.threads), port, args.workers, "/balances"
        )
        try:
            figures["stack floor"] = run(
                "stack floor", port, requests["balance reads"], args, [floor_server.pid, 0]
            )
        finally:
            stop(floor_server)
        port = free_port()
        server = start_server(
            serve_command(url, port, args.workers, args.threads), port, args.workers, "/health"
        )
        try:
            # CPU is counted for the server's processes, PostgreSQL's (when local) and this one's.
            processes = [server.pid, postmaster_pid(url) or 0]
            for name, request in requests.items():
                figures[name] = run(name, port, request, args, processes)
        finally:
            stop(server)
    floor, reads, writes = (
        figures["stack floor"],
        figures["balance reads"],
        figures["disbursements"],
    )
    print(
        f"reads: {reads['per_s']:.0f} req/s (target >= 1000), p99 {reads['p99_ms']:.1f} ms "
        f"(target < 50); against the stack floor's {floor['per_s']:.0f} req/s, p99 "
        f"{floor['p99_ms']:.1f} ms: {reads['per_s'] / floor['per_s']:.2f}x the throughput"
    )
    print(
        f"disbursements: {writes['per_s']:.0f} req/s (target >= 300), p99 "
        f"{writes['p99_ms']:.1f} ms (target < 100)"
    )


def run(
    name: str, port: int, request: Request, args: argparse.Namespace, processes: list[int]
) -> dict[str, float]:
    result = asyncio.run(drive(port, request, args.clients, args.seconds, processes))
    server_ms, postgres_ms, client_ms = result["cpu_ms"]  # type: ignore[misc]
    print(
        f"{name:<18} {result['requests']:>9} {result['per_s']:>8.0f} "
        f"{result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f}  "
        f"{server_ms:.2f} + {postgres_ms:.2f} = {server_ms + postgres_ms:.2f}, "
        f"{client_ms:.2f}  {result['statuses']}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main()
