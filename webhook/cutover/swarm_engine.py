"""The Swarm side of a cutover: the same steps (steps.py), with each routed unit a Swarm
service of one release (`<project>_<service>_<release>`, components/swarm_stack/routed.py)
on the stack's manager instead of a container of the service's engine.

The proxy is the single-engine one (engine.py), run as a container on the manager and
attached to the routed services' overlay networks; it dials the candidate's tasks at their
overlay addresses, read from Swarm once every task runs healthy, as it dials containers on
one engine: no DNS query per connection (Docker's resolver, asked 200 times a second on a
busy manager, is one more thing to fail), and neither Swarm's virtual IP nor its ingress
mesh is on the path. A task that dies is skipped by the proxy's retries (caddy.py).
Its private route is published on the listen address's host (the manager's address),
where the service, on the manager's machine, probes it. Every call goes to the manager
(`engine.on_host`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from webhook.cutover import engine
from webhook.cutover.engine import PROJECT_LABEL, RELEASE_LABEL, ContainerState, EngineError

_FAILED = ("failed", "rejected")


@dataclass(frozen=True)
class SwarmEngine:
    host: str | None  # the manager (`slipway:dockerHost`); None: the service's engine

    def ensure_proxy(
        self,
        project: str,
        listen: str,
        networks: Sequence[str],
        routes_dir: Path,
        log: Callable[[str], None],
    ) -> engine.Proxy:
        """The project's proxy container on the manager (engine.ensure_proxy there)."""
        private = listen.rpartition(":")[0]
        with engine.on_host(self.host):
            return engine.ensure_proxy(project, listen, networks, routes_dir, log, private)

    def container_state(self, name: str) -> ContainerState:
        """The Swarm service `name` as one unit: `unhealthy` or `exited` as soon as one task
        failed (a new release's service has no earlier tasks), `healthy` once every task
        Swarm wants runs (Swarm starts a task with a healthcheck only once it passes)."""
        with engine.on_host(self.host):
            try:
                service = json.loads(engine.docker("service", "inspect", name))[0]
            except EngineError:
                return ContainerState(name, "missing", None)
            tasks = self._tasks(name)
        failed = [t for t in tasks if t["Status"]["State"] in _FAILED]
        if failed:
            status = failed[-1]["Status"]
            if "unhealthy" in (status.get("Err") or ""):
                return ContainerState(name, "running", "unhealthy")
            code = (status.get("ContainerStatus") or {}).get("ExitCode") or 0
            return ContainerState(name, "exited", None, code)
        wanted = [t for t in tasks if t["DesiredState"] == "running"]
        running = [t for t in wanted if t["Status"]["State"] == "running"]
        replicas = (service["Spec"]["Mode"].get("Replicated") or {}).get("Replicas")
        expected = replicas if replicas is not None else max(len(wanted), 1)
        ready = len(running) >= expected and len(running) == len(wanted)
        return ContainerState(name, "running", "healthy" if ready else "starting")

    def addresses(self, name: str, networks: Sequence[str]) -> list[str]:
        """The overlay address of each running task of service `name` on the first of
        `networks` it is attached to: what the proxy dials."""
        with engine.on_host(self.host):
            tasks = self._tasks(name)
        found = []
        for task in tasks:
            if task["DesiredState"] != "running" or task["Status"]["State"] != "running":
                continue
            attached = {
                a["Network"]["Spec"]["Name"]: a.get("Addresses") or []
                for a in task.get("NetworksAttachments") or []
            }
            address = next((attached[n][0] for n in networks if attached.get(n)), None)
            if address is None:
                raise EngineError(f"task {task['ID'][:12]} of {name} is on none of {networks}")
            found.append(address.partition("/")[0])  # 10.0.1.5/24 → 10.0.1.5
        if not found:
            raise EngineError(f"service {name} has no running task")
        return found

    def release_containers(self, project: str) -> dict[str, str]:
        """Routed release services of `project` on the Swarm: name → release."""
        with engine.on_host(self.host):
            ids = engine.docker(
                "service", "ls", "-q", "--filter", f"label={PROJECT_LABEL}={project}"
            ).split()
            if not ids:
                return {}
            listed = engine.docker(
                "service", "inspect", *ids,
                "--format", '{{.Spec.Name}}\t{{index .Spec.Labels "' + RELEASE_LABEL + '"}}',
            )  # fmt: skip
        return dict(line.split("\t", 1) for line in listed.splitlines() if "\t" in line)

    def remove(self, names: Sequence[str]) -> None:
        """Remove release services: Swarm stops their tasks (SIGTERM, then the grace)."""
        if names:
            with engine.on_host(self.host):
                engine.docker("service", "rm", *names)

    def abandon(self, names: Sequence[str]) -> None:
        """Stop the tasks of release services that failed their gate, at once: Swarm would
        restart a failing task again and again until the next cutover removes the service,
        and each start and stop reprograms the overlay network the live tasks serve on.
        A replicated service is scaled to 0 (`docker service ps` keeps its tasks' errors);
        a global one is removed."""
        with engine.on_host(self.host):
            for name in names:
                mode = engine.docker("service", "inspect", name, "--format", "{{json .Spec.Mode}}")
                if "Replicated" in mode:
                    engine.docker("service", "scale", "--detach", f"{name}=0")
                else:
                    engine.docker("service", "rm", name)

    @staticmethod
    def _tasks(name: str) -> list[dict]:
        ids = engine.docker("service", "ps", "-q", "--no-trunc", name).split()
        return json.loads(engine.docker("inspect", *ids)) if ids else []
