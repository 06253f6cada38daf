"""Deployment outcomes as Prometheus gauges, read from the store at scrape time.

`slipway_deployments{kind,state}` counts recorded deployments (alert on `rollback_failed`
or `interrupted` going up); `slipway_last_healthy_timestamp_seconds{stack}` is when each
stack last became healthy (alert when it is old while pushes keep coming).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from webhook.store import Store


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class DeploymentCollector(Collector):
    """Reads the store at each scrape (its read connection for the scraping thread)."""

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
