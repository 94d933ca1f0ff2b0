"""Benchmark: balance reads from a PostgreSQL streaming replica (issue 18), and the lag a
reader sees under a steady write load.

In one run it starts a throwaway primary (fsync on, like bench/api.py) and a streaming replica
of it (scripts/pg-throwaway start, replica), sets up bench/api.py's ledger on the primary and
waits until the replica has replayed it. Then, with bench/api.py's clients:
  1. balance reads (GET /balances) from ``budget-ledger serve`` on the primary alone (a), and
     from ``serve --read-database REPLICA`` (b), alternately, ROUNDS times each: requests per
     second, p50/p99, which database served them (Ledger-Served-By) and the ratio b/a (target
     >= 0.9 when the replica serves everything: on a 2-core machine that runs primary,
     replica, server and clients together, the point is that routing costs little); and
     disbursements (POST /disbursements) from each, the primary's write rate with and
     without replicas (with them each write brings the primary's read models up to itself
     before it answers, api/routing.py);
  2. with (b): a writer posts disbursements at --rate a second (then as fast as --clients
     connections go); after each write a reader asks GET /balances with ``Min-Position: <the
     write's Ledger-Position>``: the delay from the write's answer to an answer at that
     position, and which database gave it. Meanwhile a sampler reads the replica's lag from
     PostgreSQL (WAL bytes not yet replayed: the primary's pg_current_wal_lsn() then the
     replica's pg_last_wal_replay_lsn(); now() - pg_last_xact_replay_timestamp() on the
     replica) and the server's own bound, /health/ready's replicas[0].lag_s.

Usage:
  .venv/bin/python bench/replicas.py [--seconds 10] [--clients 32] [--rate 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import (  # noqa: E402
    SERVED_BY,
    WARM_UP_S,
    Request,
    drive,
    header,
    read_reply,
    scenarios,
    serve_command,
    set_up,
    start_server,
    stop,
)
from bench.cpu import free_port, postmaster_pid  # noqa: E402
from bench.pg import THROWAWAY, bench_database  # noqa: E402
from ledger.storage.replicas import PRIMARY_WAL  # noqa: E402 (the insert position: see there)

POSITION = "Ledger-Position"
MAX_LAG_S = 5.0  # serve's default --max-lag, said aloud
SAMPLE_EVERY_S = 0.1
HEALTH_EVERY_S = 0.5
REPLICA_WAL = (
    "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'),"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)
# Numbers the writes of the whole run: each disbursement's movement id is new.
WRITES = itertools.count(1)


@contextmanager
def primary_and_replica() -> Iterator[tuple[str, str]]:
    """(admin URL of a throwaway primary, the same of its streaming replica); both stopped
    afterwards."""
    primary_dir = tempfile.mkdtemp(prefix="budget-ledger-bench-pg.")
    replica_dir = tempfile.mkdtemp(prefix="budget-ledger-bench-replica.")
    try:
        primary = subprocess.check_output([THROWAWAY, "start", primary_dir], text=True).strip()
        replica = subprocess.check_output(
            [THROWAWAY, "replica", primary_dir, replica_dir], text=True
        ).strip()
        yield primary, replica
    finally:
        subprocess.run([THROWAWAY, "stop", replica_dir], check=False)
        subprocess.run([THROWAWAY, "stop", primary_dir], check=False)


def same_database(url: str, server_url: str) -> str:
    """``url``'s database on the server of ``server_url``."""
    return server_url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


def wait_for_replay(primary: str, replica: str, timeout_s: float = 120) -> float:
    """Seconds until the replica has replayed all the primary's WAL as of now."""
    started = time.perf_counter()
    with psycopg.connect(primary, autocommit=True) as connection:
        row = connection.execute(PRIMARY_WAL).fetchone()
        assert row is not None
        target = float(row[0])
    with psycopg.connect(replica, autocommit=True) as connection:
        while time.perf_counter() - started < timeout_s:
            found = connection.execute(REPLICA_WAL).fetchone()
            if found is not None and found[0] is not None and float(found[0]) >= target:
                return time.perf_counter() - started
            time.sleep(0.05)
    raise SystemExit(f"the replica did not replay the primary's WAL in {timeout_s:.0f} s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def served_text(served: Counter[str]) -> str:
    total = sum(served.values()) or 1
    return ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in sorted(served.items()))


def read_round(
    label: str, port: int, request: Request, args: argparse.Namespace, processes: list[int]
) -> dict[str, float]:
    served: Counter[str] = Counter()
    result = asyncio.run(drive(port, request, args.clients, args.seconds, processes, served))
    cpu_ms = result["cpu_ms"]  # type: ignore[var-annotated]
    print(
        f"{label:<36} {result['requests']:>9} {result['per_s']:>8.0f} "
        f"{result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f}  "
        f"{' + '.join(f'{ms:.2f}' for ms in cpu_ms[:-1])}, {cpu_ms[-1]:.2f}  "
        f"{result['statuses']}  served: {served_text(served)}",
        flush=True,
    )
    return result


class Sampler:
    """Samples the replica's lag from PostgreSQL and from the server's /health/ready, in a
    thread, until stopped."""

    def __init__(self, primary: str, replica: str, port: int) -> None:
        self.primary, self.replica, self.port = primary, replica, port
        self.wal_bytes: list[float] = []
        self.replay_s: list[float] = []
        self.health_lag_s: list[float] = []
        self.health_states: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        next_health = 0.0
        with (
            psycopg.connect(self.primary, autocommit=True) as primary,
            psycopg.connect(self.replica, autocommit=True) as replica,
        ):
            while not self._stop.wait(SAMPLE_EVERY_S):
                head = primary.execute(PRIMARY_WAL).fetchone()
                found = replica.execute(REPLICA_WAL).fetchone()
                if head is not None and found is not None and found[0] is not None:
                    self.wal_bytes.append(max(0.0, float(head[0]) - float(found[0])))
                    if found[1] is not None:
                        self.replay_s.append(float(found[1]))
                if time.monotonic() >= next_health:
                    next_health = time.monotonic() + HEALTH_EVERY_S
                    self._health()

    def _health(self) -> None:
        url = f"http://127.0.0.1:{self.port}/health/ready"
        with urllib.request.urlopen(url, timeout=5) as answer:
            replica = json.load(answer)["replicas"][0]
        self.health_states[replica["status"]] += 1
        if replica["lag_s"] is not None:
            self.health_lag_s.append(float(replica["lag_s"]))


async def write_then_read(
    port: int,
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
    write: bytes,
    read: bytes,
    delays: list[float],
    served: Counter[str],
    failures: Counter[str],
) -> None:
    """Post ``write``; then ask ``read`` with Min-Position at the write's Ledger-Position and
    record the delay from the write's answer to the read's."""
    reader, writer = await connections.get()
    try:
        writer.write(write)
        status, head = await read_reply(reader)
        position = header(head, POSITION)
        if status != 201 or position is None:
            failures[f"write {status}"] += 1
            return
        written_at = time.perf_counter()
        # ``read`` ends with the blank line; the header goes before it.
        writer.write(read[:-2] + f"Min-Position: {position}\r\n\r\n".encode())
        status, head = await read_reply(reader)
        answered_at = time.perf_counter()
        reflects = header(head, POSITION)
        if status != 200 or reflects is None or int(reflects) < int(position):
            failures[f"read {status} at {reflects} for {position}"] += 1
            return
        delays.append(answered_at - written_at)
        served[header(head, SERVED_BY) or "?"] += 1
    finally:
        connections.put_nowait((reader, writer))


async def write_load(
    port: int, requests: dict[str, Request], rate: float, clients: int, seconds: float
) -> dict[str, object]:
    """Writes at ``rate`` a second (0: as fast as ``clients`` connections go), each followed
    by its read; WARM_UP_S first, not counted."""
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    connections = asyncio.Queue()
    for _ in range(clients):
        connections.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    write, read = requests["disbursements"], requests["balance reads"]
    delays: list[float] = []
    served: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    ignored: list[float] = []
    ignored_served: Counter[str] = Counter()
    started = time.perf_counter()
    warm_until, stop_at = started + WARM_UP_S, started + WARM_UP_S + seconds

    def one() -> asyncio.Task[None]:
        counted = time.perf_counter() >= warm_until
        return asyncio.ensure_future(
            write_then_read(
                port,
                connections,
                write(0),
                read(0),
                delays if counted else ignored,
                served if counted else ignored_served,
                failures,
            )
        )

    tasks: list[asyncio.Task[None]] = []
    if rate > 0:
        tick = 0
        while (due := started + tick / rate) < stop_at:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(one())
            tick += 1
    else:

        async def loop() -> None:
            while time.perf_counter() < stop_at:
                await one()

        await asyncio.gather(*(loop() for _ in range(clients)))
    await asyncio.gather(*tasks)
    while not connections.empty():
        connections.get_nowait()[1].close()
    return {"delays": delays, "served": served, "failures": failures}


def lag_round(
    label: str,
    port: int,
    requests: dict[str, Request],
    rate: float,
    args: argparse.Namespace,
    primary: str,
    replica: str,
) -> None:
    with Sampler(primary, replica, port) as sampler:
        result = asyncio.run(write_load(port, requests, rate, args.clients, args.seconds))
    delays = [1000 * d for d in result["delays"]]  # type: ignore[attr-defined]
    served: Counter[str] = result["served"]  # type: ignore[assignment]
    print(
        f"{label}: {len(delays)} writes each read back ({len(delays) / args.seconds:.0f}/s); "
        f"write answer to read answer at its position: p50 {statistics.median(delays):.1f} ms, "
        f"p99 {percentile(delays, 0.99):.1f} ms, max {max(delays):.1f} ms; "
        f"served: {served_text(served)}"
        + (f"; failures {dict(result['failures'])}" if result["failures"] else ""),  # type: ignore[call-overload]
        flush=True,
    )
    wal, replay, health = sampler.wal_bytes, sampler.replay_s, sampler.health_lag_s
    print(
        f"  replica lag sampled every {SAMPLE_EVERY_S:.1f} s ({len(wal)} samples): WAL not "
        f"replayed p50 {statistics.median(wal):.0f} B, p99 {percentile(wal, 0.99):.0f} B, "
        f"max {max(wal):.0f} B; now() - last replayed commit p50 "
        f"{1000 * statistics.median(replay):.1f} ms, p99 {1000 * percentile(replay, 0.99):.1f} "
        f"ms; /health/ready lag_s ({len(health)} samples, {dict(sampler.health_states)}) "
        f"p50 {statistics.median(health):.3f} s, max {max(health):.3f} s",
        flush=True,
    )


def serve(command: list[str], args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    """``command`` (``serve_command``'s, any port) started on a free port."""
    port = free_port()
    command = [*command]
    command[command.index("--port") + 1] = str(port)
    return start_server(command, port, args.workers, "/health"), port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, help="threads per worker [serve's default]")
    parser.add_argument("--rate", type=float, default=50.0, help="writes a second, steady")
    parser.add_argument("--rounds", type=int, default=2, help="times (a) then (b) are read")
    args = parser.parse_args()
    print("$ .venv/bin/python bench/replicas.py " + " ".join(sys.argv[1:]), flush=True)
    with primary_and_replica() as (primary_admin, replica_admin):
        with bench_database(primary_admin) as (url, _):
            replica_url = same_database(url, replica_admin)
            started = time.perf_counter()
            districts, communes, token = set_up(url)
            set_up_s = time.perf_counter() - started
            replay_s = wait_for_replay(url, replica_url)
            print(
                f"set up {len(communes)} communes' funded lines on the primary in "
                f"{set_up_s:.1f} s; the replica had replayed it {replay_s:.2f} s later",
                flush=True,
            )
            print(
                f"{args.workers} workers, {args.threads or 'default'} threads; {args.clients} "
                f"clients, {WARM_UP_S:.0f} s warm-up then {args.seconds:.0f} s per round; "
                f"--max-lag {MAX_LAG_S:g}",
                flush=True,
            )
            requests = scenarios(token, districts, communes)
            # bench/api.py numbers a scenario's writes from 1 each time it drives it; here
            # the numbers run on over the whole run, so each movement id is new.
            disbursement = requests["disbursements"]
            requests["disbursements"] = lambda _: disbursement(next(WRITES))
            pids = [postmaster_pid(primary_admin) or 0, postmaster_pid(replica_admin) or 0]
            alone = serve_command(url, 0, args.workers, args.threads)
            routed = [*alone, "--read-database", replica_url, "--max-lag", str(MAX_LAG_S)]
            print(
                f"{'server, scenario':<36} {'requests':>9} {'req/s':>8} {'p50 ms':>8} "
                f"{'p99 ms':>8}  CPU ms/request (server + primary + replica, client)"
            )
            figures: dict[tuple[str, str], list[dict[str, float]]] = {}
            for _ in range(args.rounds):
                for command, label in (
                    (alone, "(a) primary alone"),
                    (routed, "(b) --read-database"),
                ):
                    server, port = serve(command, args)
                    try:
                        for scenario in ("balance reads", "disbursements"):
                            figures.setdefault((label[:3], scenario), []).append(
                                read_round(
                                    f"{label}, {scenario}",
                                    port,
                                    requests[scenario],
                                    args,
                                    [server.pid, *pids],
                                )
                            )
                    finally:
                        stop(server)
            for scenario in ("balance reads", "disbursements"):
                for n, (a, b) in enumerate(
                    zip(
                        figures.get(("(a)", scenario), []),
                        figures.get(("(b)", scenario), []),
                        strict=True,
                    ),
                    start=1,
                ):
                    print(
                        f"{scenario}, round {n}: (b)/(a) {b['per_s'] / a['per_s']:.2f}x the "
                        f"throughput, p99 {b['p99_ms'] / a['p99_ms']:.2f}x"
                        + (" (target >= 0.9x)" if scenario == "balance reads" else ""),
                        flush=True,
                    )
            server, port = serve(routed, args)
            try:
                print(
                    "lag under writes, served by (b); each write's read asks Min-Position "
                    "(a replica waits up to 1 s to reach it, then the primary answers)",
                    flush=True,
                )
                lag_round(
                    f"{args.rate:g} writes/s", port, requests, args.rate, args, url, replica_url
                )
                lag_round(
                    f"as fast as {args.clients} clients go",
                    port,
                    requests,
                    0,
                    args,
                    url,
                    replica_url,
                )
            finally:
                stop(server)


if __name__ == "__main__":
    main()
