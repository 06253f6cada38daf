"""Deployment outcomes as Prometheus gauges, read from the store at scrape time.

`slipway_deployments{kind,state}` counts recorded deployments (alert on `rollback_failed`
or `interrupted` going up); `slipway_last_healthy_timestamp_seconds{stack}` is when each
stack last became healthy (alert when it is old while pushes keep coming).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

COUNT_BY_KIND_AND_STATE = "SELECT kind, state, count(*) FROM deployments GROUP BY kind, state"
LAST_HEALTHY_BY_STACK = (
    "SELECT stack, max(updated_at) FROM deployments"
    " WHERE state = 'succeeded' AND kind IN ('deploy', 'rollback') GROUP BY stack"
)


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class DeploymentCollector(Collector):
    """Reads the database with its own short read-only connection per scrape (WAL)."""

    def __init__(self, database: Path) -> None:
        self.database = database

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
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            for kind, state, count in conn.execute(COUNT_BY_KIND_AND_STATE):
                deployments.add_metric([kind, state], count)
            for stack, at in conn.execute(LAST_HEALTHY_BY_STACK):
                healthy.add_metric([stack], _epoch(at))
        finally:
            conn.close()
        yield deployments
        yield healthy
