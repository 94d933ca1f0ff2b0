"""Benchmark: the web pages against the JSON API on the same data, in the same run.

Builds the national-scale history of bench/asof.py (its generator, on PostgreSQL) up to
``--events`` events, brings the read models up, then times in the server (the WSGI
application called in process: no network, no browser) alternately:
  - the progress page of a province at a random date against GET /reports/progress for the
    same query,
  - a line's page against GET /history of the same line,
and prints p50 and p99 of each and the page/API ratio (target: page <= 1.5x the API), and the
weight of the progress page with everything it loads (target: <= 300 KB).

Usage:
  .venv/bin/python bench/web.py [--postgres URL] [--events 100000] [--requests 60]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import create_app  # noqa: E402
from api.people import PeopleStore  # noqa: E402
from api.services import bootstrap  # noqa: E402
from bench.asof import generate  # noqa: E402
from bench.pg import bench_database  # noqa: E402
from ledger.application import open_ledger  # noqa: E402

PASSWORD = "benchmark password"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(name: str, samples: list[float]) -> str:
    return (
        f"{name}: p50 {statistics.median(samples) * 1000:.1f} ms, "
        f"p99 {percentile(samples, 0.99) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BUDGET_LEDGER_BENCH_POSTGRES"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    with bench_database(args.postgres) as (url, _):
        open_ledger(url, create=True).close()
        services = bootstrap(url)
        started = time.perf_counter()
        events = generate(services.ledger, args.events, random.Random(7), {})
        services.projections().catch_up()
        print(f"{events} events generated and read in {time.perf_counter() - started:.0f} s")
        PeopleStore(services.store).add("bench", "viewer", None, PASSWORD)
        token = services.tokens().create("bench-token", "viewer", None)[1]
        app = create_app(services=services)
        browser, api = app.test_client(), app.test_client()
        form = browser.get("/login").data.decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        signed = browser.post(
            "/login", data={"name": "bench", "password": PASSWORD, "csrf_token": csrf.group(1)}
        )
        assert signed.status_code == 303, signed.data
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(11)
        key = next(k for k in services.ledger.list_line_keys() if len(k.holder) == 6)
        line = f"program={key.program}&kind={key.kind}&source={key.source}&year={key.year}"
        line += f"&holder={key.holder}"
        line_page = f"/lines/{key.program}/{key.kind}/{key.source}/{key.year}/{key.holder}"
        timings: dict[str, list[float]] = {name: [] for name in
                                           ("page progress", "api progress", "page line",
                                            "api history")}  # fmt: skip
        weight = 0
        for _ in range(args.requests):
            day = (date(2023, 1, 1) + timedelta(days=rng.randrange(365))).isoformat()
            pairs = (
                ("page progress", browser, f"/?holder=10&as_of={day}", {}),
                ("api progress", api, f"/reports/progress?holder=10&as_of={day}", headers),
                ("page line", browser, line_page, {}),
                ("api history", api, f"/history?{line}", headers),
            )
            for name, client, path, sent in pairs:
                started = time.perf_counter()
                answer = client.get(path, headers=sent)
                timings[name].append(time.perf_counter() - started)
                assert answer.status_code == 200, (path, answer.status_code, answer.data[-600:])
                if name == "page progress":
                    weight = len(answer.data)
        for name, samples in timings.items():
            print(summary(name, samples))
        for page, peer in (("page progress", "api progress"), ("page line", "api history")):
            ratio = statistics.median(timings[page]) / statistics.median(timings[peer])
            print(f"{page} / {peer}: {ratio:.2f}x at p50 (target <= 1.5x)")
        css = (ROOT / "api" / "web" / "static" / "style.css").stat().st_size
        print(
            f"progress page weight: {weight / 1024:.1f} KB HTML + {css / 1024:.1f} KB CSS, "
            "no script, no font (target <= 300 KB)"
        )
        services.close()


if __name__ == "__main__":
    main()
