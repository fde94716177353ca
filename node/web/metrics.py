"""``/metrics``: Prometheus text format, every name starting with ``rhizome_``.

Request counts and latency come from a middleware; archive, peer and revocation figures are
read from the database when Prometheus scrapes, so they are true for CLI changes as well.
Each app has its own registry (several nodes may run in one process in tests).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from archive.record_facts import record_count
from archive.tombstones import tombstone_count
from federation.overview import (
    last_sync_results,
    peers_by_status,
    revocation_deliveries_waiting,
)
from node.node import Node
from node.web.errors import Handler

REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("metrics_registry", CollectorRegistry)
REQUESTS: web.AppKey[Counter] = web.AppKey("metrics_requests", Counter)
LATENCY: web.AppKey[Histogram] = web.AppKey("metrics_latency", Histogram)


class ArchiveCollector(Collector):
    """Figures read from the node's database at scrape time."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        db = self.node.db
        yield _gauge("rhizome_records", "Records stored", record_count(db))
        peers = GaugeMetricFamily("rhizome_peers", "Peers by status", labels=["status"])
        for status, count in peers_by_status(db).items():
            peers.add_metric([status], count)
        yield peers
        yield _gauge(
            "rhizome_revocations_pending",
            "Revocations still to deliver to a peer",
            revocation_deliveries_waiting(db),
        )
        yield _gauge("rhizome_tombstones", "Withdrawn record ids", tombstone_count(db))
        syncs = CounterMetricFamily(
            "rhizome_sync_runs", "Syncs this node started", labels=["result"]
        )
        for ok, count in last_sync_results(db).items():
            syncs.add_metric(["ok" if ok else "error"], count)
        yield syncs


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def install_metrics(app: web.Application, node: Node) -> None:
    registry = CollectorRegistry()
    registry.register(ArchiveCollector(node))
    app[REGISTRY] = registry
    app[REQUESTS] = Counter(
        "rhizome_http_requests", "HTTP requests by route and status", ["route", "status"],
        registry=registry,
    )  # fmt: skip
    app[LATENCY] = Histogram(
        "rhizome_request_latency_seconds", "Request latency by route", ["route"], registry=registry
    )
    app.router.add_get("/metrics", metrics, name="metrics")


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    route = request.match_info.route.name or "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        request.app[REQUESTS].labels(route, str(status)).inc()
        request.app[LATENCY].labels(route).observe(time.perf_counter() - started)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
