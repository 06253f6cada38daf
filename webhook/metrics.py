"""Every Prometheus metric of the service, in one module, on one app instance's registry
(its own, so several apps can coexist): HTTP requests, signature failures, rate limits,
deliveries, queue depth (`Metrics`); deployment outcomes and the last healthy time
(`DeploymentCollector`) and drift checks (`DriftCollector`), read from the store at each
scrape; the poll's checks (`poll_checks`, registered only while the poll runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from webhook.store import Store
from webhook.store.drift import DriftRecords


class Metrics:
    """Requests by route and status, signature failures, deliveries, queue depth."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, queue_depth: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "slipway_http_requests",
            "HTTP requests answered, by route template and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.signature_failures = Counter(
            "slipway_signature_failures",
            "Deliveries refused because X-Hub-Signature-256 was missing or wrong",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "slipway_rate_limited",
            "Requests refused with 429, by route template",
            ["route"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "slipway_deliveries",
            "Verified deliveries, by event and outcome (queued, pong, ignored, duplicate)",
            ["event", "outcome"],
            registry=self.registry,
        )
        depth = Gauge(
            "slipway_queue_depth",
            "Deployments accepted by the queue and not yet finished",
            registry=self.registry,
        )
        depth.set_function(queue_depth)
        self._request_children: dict[tuple[str, int], Counter] = {}

    def count_request(self, route: str, status: int) -> None:
        child = self._request_children.get((route, status))
        if child is None:
            child = self._request_children[(route, status)] = self.requests.labels(
                route, str(status)
            )
        child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class DriftCollector(Collector):
    """Drift checks read from the store at each scrape (webhook/store/drift.py):
    `slipway_drift_resources{stack}` from each stack's newest finished check (alert when
    above 0), `slipway_drift_checks_total{stack,result}` every check recorded."""

    def __init__(self, store: Store) -> None:
        self.records = DriftRecords(store)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        resources = GaugeMetricFamily(
            "slipway_drift_resources",
            "Resources the stack's newest drift check found changed or gone (0: in sync)",
            labels=["stack"],
        )
        checks = CounterMetricFamily(
            "slipway_drift_checks",
            "Drift checks recorded, by stack and result (in_sync, drifted, failed, cancelled)",
            labels=["stack", "result"],
        )
        for check in self.records.latest_per_stack():
            resources.add_metric([check.stack], check.resources)
        for stack, result, count in self.records.counts():
            checks.add_metric([stack, result], count)
        yield resources
        yield checks


def poll_checks(registry: CollectorRegistry) -> Counter:
    """`slipway_poll_checks_total{result}`, registered by the missed-delivery poll
    (webhook/poll.py) when it runs, so that a service without the poll does not show it."""
    return Counter(
        "slipway_poll_checks",
        "Checks of the deployed branch's head, by result: missed (a push no delivery "
        "brought, queued now), seen, no_branch, error",
        ["result"],
        registry=registry,
    )


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class DeploymentCollector(Collector):
    """Deployment outcomes read from the store at each scrape (its read connection for the
    scraping thread): `slipway_deployments{kind,state}` counts recorded deployments (alert
    on `rollback_failed` or `interrupted` going up); `slipway_last_healthy_timestamp_seconds
    {stack}` is when each stack last became healthy (alert when it is old while pushes keep
    coming)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        deployments = GaugeMetricFamily(
            "slipway_deployments",
            "Deployments recorded, by kind and state",
            labels=["kind", "state"],
        )
        healthy = GaugeMetricFamily(
            "slipway_last_healthy_timestamp_seconds",
            "When each stack last finished a deployment with passing health checks",
            labels=["stack"],
        )
        for kind, state, count in self.store.deployment_counts():
            deployments.add_metric([kind, state], count)
        for stack, at in self.store.last_healthy_times().items():
            healthy.add_metric([stack], _epoch(at))
        yield deployments
        yield healthy
