"""``GET /metrics``: the server's counters in Prometheus' text format (prometheus_client).

Requests by method, endpoint (the route's template, never the raw path) and status, their
latency, refusals by the problem's ``rule``, and, read when scraped, the log's head and how
far the read model trails it. Under ``budget-ledger serve`` each gunicorn worker writes its
counters to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums them over the workers
(prometheus_client's multiprocess mode; api/server.py makes the directory). prometheus_client
picks that mode once, when it is first imported: so nothing imported by the ``budget-ledger``
command before gunicorn forks may import it (``create_app`` imports this module).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.errors import PROBLEM_CONTENT_TYPE
from api.server import MULTIPROCESS_ENVVAR
from projections.runner import ReadModelState

# Seconds; a balance read takes a few milliseconds, a report or an import's worth of
# movements up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the endpoint of a request that matched no route (404, 405)
# Label values come from bounded sets only: a client choosing a method (or a path) must not
# make new series, each a few hundred bytes in every worker's file and in every scrape.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"

log = logging.getLogger("budget_ledger.metrics")


class LogPosition(Collector):
    """The log's head and the read model's lag behind it, read when scraped; nothing when
    the database does not answer (the request counters still do)."""

    def __init__(self, state: Callable[[], ReadModelState]) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            state = self.state()
        except Exception as error:  # a scrape must answer while the database is down
            log.warning("metrics: cannot read the log's head: %s", error)
            return
        yield GaugeMetricFamily(
            "budget_ledger_log_head_position",
            "The position of the last event in the log.",
            value=state.head,
        )
        yield GaugeMetricFamily(
            "budget_ledger_read_model_lag_positions",
            "Log head minus the active read model's position (positions, not events: "
            "rolled-back writes leave gaps); a read catches up before it answers.",
            value=max(state.head - state.position, 0),
        )


class Metrics:
    def __init__(self, state: Callable[[], ReadModelState]) -> None:
        directory = os.environ.get(MULTIPROCESS_ENVVAR)
        if directory and not getattr(values.ValueClass, "_multiprocess", False):
            raise RuntimeError(
                f"prometheus_client was imported before {MULTIPROCESS_ENVVAR} was set: "
                "its counters would not be summed over the workers"
            )
        # Per process the counters live in their own registry (tests create many apps);
        # across gunicorn's workers, in the shared directory.
        own = None if directory else CollectorRegistry()
        self.requests = Counter(
            "budget_ledger_http_requests",
            "HTTP requests answered, by method, endpoint template and status.",
            ("method", "endpoint", "status"),
            registry=own,
        )
        self.latency = Histogram(
            "budget_ledger_http_request_duration_seconds",
            "Time from the request's arrival in the application to its answer.",
            ("method", "endpoint"),
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.refusals = Counter(
            "budget_ledger_refusals",
            "Problem answers (application/problem+json), by the problem's rule.",
            ("rule",),
            registry=own,
        )
        if own is None:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=directory)  # type: ignore[no-untyped-call]
        else:
            self.registry = own
        self.registry.register(LogPosition(state))

    def install(self, app: Flask) -> None:
        # First of the before_request functions, so that authentication is timed too.
        app.before_request_funcs.setdefault(None, []).insert(0, self.start)
        app.after_request(self.count)
        app.add_url_rule("/metrics", "metrics", self.scrape)

    def start(self) -> None:
        g.metrics_started = time.perf_counter()

    def count(self, response: Response) -> Response:
        started = g.get("metrics_started")
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else OTHER_METHOD
        self.requests.labels(method, endpoint, response.status_code).inc()
        if started is not None:
            self.latency.labels(method, endpoint).observe(time.perf_counter() - started)
        if response.mimetype == PROBLEM_CONTENT_TYPE:
            body = response.get_json(silent=True)
            if isinstance(body, dict) and isinstance(body.get("rule"), str):
                self.refusals.labels(body["rule"]).inc()
        return response

    def scrape(self) -> Response:
        """Prometheus' text format, or OpenMetrics when the scraper asks for it."""
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(self.registry), content_type=content_type)
