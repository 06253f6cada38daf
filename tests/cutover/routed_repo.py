"""The demo repository (tests/e2e/demo_repo.py) deploying stacks/demo/routed.yml: web is
routed through Slipway's proxy, which publishes the repository's loopback port."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.demo_repo import DemoRepo

# Answers 200 for `after` seconds from its first probe, then 503: a release that turns bad.
TURNING = """#!/bin/sh
[ -f /tmp/first ] || date +%s > /tmp/first
if [ $(( $(date +%s) - $(cat /tmp/first) )) -lt {after} ]; then
  printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nok release={name}\\n'
else
  printf 'Status: 503 Service Unavailable\\r\\n\\r\\nbroken release={name}\\n'
fi
"""


class TurningRepo(DemoRepo):
    """The demo repository with one more kind of release: healthy, then not."""

    def turning_unhealthy(self, name: str, after: int) -> str:
        healthz = TURNING.format(name=name, after=after)
        return self._release(healthz, crash=False, message=f"turning {name}")


class RoutedRepo(TurningRepo):
    """... deploying stacks/demo/routed.yml (web behind the proxy)."""

    @classmethod
    def create(cls, path: Path, stack: str, project: str, port: int) -> RoutedRepo:
        repo = super().create(path, stack, project, port)
        routed = path / "stacks/demo/routed.yml"
        routed.write_text(routed.read_text().replace("${DEMO_WEB_PORT:-8080}", str(port)))
        config = path / f"Pulumi.{stack}.yaml"
        config.write_text(config.read_text().replace("compose.yml", "routed.yml"))
        repo._commit("route web through the proxy")
        return repo  # type: ignore[return-value]
