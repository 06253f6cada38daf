"""Watches a release's containers while its health checks wait: a container that exits with
an error, restarts (a crash loop) or is reported `unhealthy` by its own Docker healthcheck
ends the wait at once with that reason (webhook/health.py `check_health(watch=...)`).

A container that exits with code 0 is not a failure: a Compose job (`restart: "no"`,
`service_completed_successfully`) ends that way. An engine that does not answer is not one
either: the HTTP checks still decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from webhook.orchestrator import engine_state

_STOPPED = ("exited", "dead")


@dataclass
class ReleaseWatch:
    """The containers of Compose project `project`; `start` marks their restart counts."""

    project: str
    docker_host: str | None = None
    restarts: dict[str, int] = field(default_factory=dict)

    def start(self) -> ReleaseWatch:
        try:
            found = engine_state.read_project(self.project, self.docker_host)
        except engine_state.EngineError:
            found = {}
        self.restarts = restart_counts(found)
        return self

    def problem(self) -> str | None:
        """Why the release is failing now, or None."""
        try:
            found = engine_state.read_project(self.project, self.docker_host)
        except engine_state.EngineError:
            return None
        for container in sorted(found.values(), key=lambda c: c.name):
            reason = container_problem(container, self.restarts.get(container.id))
            if reason is not None:
                return reason
        return None


def restart_counts(containers: dict[str, engine_state.ContainerState]) -> dict[str, int]:
    """Container id → restart count: what `ReleaseWatch` compares with."""
    return {c.id: c.restart_count for c in containers.values()}


def container_problem(
    container: engine_state.ContainerState, restarts_at_start: int | None
) -> str | None:
    """Why this one container shows a failed release, or None."""
    name = container.name
    if container.status in _STOPPED and container.exit_code != 0:
        return f"container {name} exited with code {container.exit_code}"
    if container.status == "restarting":
        return f"container {name} is restarting (crash loop, {container.restart_count} restarts)"
    if restarts_at_start is not None and container.restart_count > restarts_at_start:
        return f"container {name} restarted {container.restart_count - restarts_at_start} time(s)"
    if container.health == "unhealthy":
        return f"container {name} is unhealthy (its Docker healthcheck fails)"
    return None
