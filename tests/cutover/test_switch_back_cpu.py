"""The switch back starts its programs at the service's CPU weight, not in the idle group the
rest of a deployment runs in: users wait on it (webhook/cutover/steps.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from webhook.cutover.caddy import Release
from webhook.cutover.steps import Cutover, CutoverPolicy, RoutingOutput
from webhook.health import HealthPolicy
from webhook.runners.cpu_group import GROUP, children_in, command


@dataclass
class RecordingRoutes:
    """Stands in for ProxyRoutes: records how `switch` would start the docker CLI."""

    started: list[list[str]] = field(default_factory=list)

    def switch(self, release: str) -> None:
        self.started.append(command(["docker", "exec", "proxy", release]))


def test_the_switch_back_runs_outside_the_idle_group(tmp_path: Path) -> None:
    routing = RoutingOutput(
        "p", "127.0.0.1:8080", Release("d2", {"web": ["p-web-d2-1"]}), (), (), ()
    )
    routes = RecordingRoutes()
    cutover = Cutover(CutoverPolicy(HealthPolicy()), clock=lambda: 100.0)
    lines: list[str] = []
    with children_in(tmp_path / GROUP):
        report = cutover._switch_back(
            routing,
            routes,
            Release("d1", {}),
            (100.0, "HTTP 500"),
            70.0,
            lines.append,  # type: ignore[arg-type]
        )
        assert command(["git"]) != ["git"]  # the deployment's other programs: still idle
    assert routes.started == [["docker", "exec", "proxy", "d1"]]
    assert "users are back on release d1" in report.summary and not report.healthy
