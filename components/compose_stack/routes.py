"""Routed services: the top-level `x-slipway` block of a Compose file, as plain data (pure).

A routed service is reached only through the proxy Slipway runs in front of the stack
(webhook/cutover/), so each release's containers can run beside the previous release's
under release-specific names. Compose drops extensions inside a service from its resolved
model, so the routes are keyed by service in one top-level block:

    x-slipway:
      proxy: {listen: "127.0.0.1:8080"}        # the proxy's public address (host:port)
      routes:
        web: {port: 8080, path: /, host: example.com, health: /healthz}

A service that cannot run twice (a fixed host port, a fixed `container_name`, a volume or
host folder mounted read-write) is refused with the reason, never silently doubled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.compose_stack import compose_labels
from components.compose_stack.plan import ServicePlan, StackPlan
from components.compose_stack.report import Report

EXTENSION = "x-slipway"
RELEASE_FILE = ".slipway-release"  # written by webhook/orchestrator/pipeline.py before `up`
RELEASE_LABEL = "slipway.release"
PROJECT_LABEL = "slipway.project"
_ROUTE_KEYS = {"port", "path", "host", "health", "sharedVolumes"}
_RELEASE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
_LISTEN = re.compile(r"^(?P<ip>[0-9.]+|\[[0-9a-f:]+\]):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class Route:
    """How the proxy reaches one service: `path` prefix (and `host`) to container `port`."""

    port: int
    path: str = "/"
    host: str | None = None
    health: str | None = None  # probed on the candidate through the private route

    def as_output(self) -> dict[str, Any]:
        return {"port": self.port, "path": self.path, "host": self.host, "health": self.health}


@dataclass(frozen=True)
class Routing:
    """The stack's routed services and the proxy's public address."""

    listen: str
    routes: Mapping[str, Route]
    release: str | None = None  # set per deployment by the service (`slipway:release`)


def parse_routing(
    model: Mapping[str, Any], project: str, services: Mapping[str, ServicePlan], report: Report
) -> Routing | None:
    """The `x-slipway` block checked against the services; problems go to `report`."""
    raw = model.get(EXTENSION)
    if not raw:
        return None
    where = f"`{EXTENSION}`"
    if not isinstance(raw, Mapping):
        report.problems.append(f"{where}: must be a mapping with `proxy` and `routes`")
        return None
    listen = str((raw.get("proxy") or {}).get("listen") or "")
    if not _LISTEN.match(listen):
        report.problems.append(
            f"{where}: `proxy.listen` must be ip:port (e.g. 127.0.0.1:8080), got {listen!r}"
        )
    routes = {}
    for name, spec in (raw.get("routes") or {}).items():
        route = _route(name, spec or {}, services.get(name), project, report)
        if route is not None:
            routes[name] = route
    if not routes:
        report.problems.append(f"{where}: `routes` names no service; route at least one")
    return Routing(listen=listen, routes=routes)


def _route(
    name: str,
    spec: Mapping[str, Any],
    service: ServicePlan | None,
    project: str,
    report: Report,
) -> Route | None:
    where = f"`{EXTENSION}.routes.{name}`"
    if service is None:
        report.problems.append(f"{where}: no service `{name}` in the Compose file")
        return None
    unknown = sorted(set(spec) - _ROUTE_KEYS)
    if unknown:
        report.problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    port = spec.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        report.problems.append(f"{where}: `port` must be the container's HTTP port, got {port!r}")
        return None
    path = str(spec.get("path") or "/")
    health = spec.get("health")
    for key, value in (("path", path), ("health", health)):
        if value is not None and not str(value).startswith("/"):
            report.problems.append(f"{where}: `{key}` must start with /, got {value!r}")
    shared = bool(spec.get("sharedVolumes"))
    report.problems.extend(f"{where}: {why}" for why in cannot_run_twice(service, project, shared))
    return Route(port=port, path=path, host=spec.get("host") or None, health=health)


def cannot_run_twice(service: ServicePlan, project: str, shared_volumes: bool) -> list[str]:
    """Why two releases of `service` cannot run side by side (empty: they can)."""
    reasons = []
    fixed = [p["external"] for p in service.args.get("ports") or [] if p.get("external")]
    if fixed:
        reasons.append(
            f"publishes fixed host port(s) {sorted(set(fixed))}, which two releases cannot "
            "both bind: remove `ports` (the proxy's `listen` is the public address)"
        )
    if service.container_names[:1] not in ([], [f"{project}-{service.name}-1"]):
        reasons.append("has a fixed `container_name`: remove it (releases are named by Slipway)")
    # A bind of a host folder is as shared as a volume (`./data` too: kept in the stack's
    # binds folder under the deploy service, components/compose_stack/project_binds.py).
    writable = sorted(
        {m.source for m in service.mounts if m.kind in ("volume", "bind") and not m.read_only}
    )
    if writable and not shared_volumes:
        reasons.append(
            f"mounts volume(s) or host folder(s) {', '.join(writable)} read-write, and two "
            "releases would write them at once: mount them read-only, or set "
            "`sharedVolumes: true` when the app allows two writers"
        )
    return reasons


def release_in_checkout(root: Path) -> str | None:
    """The release name the service wrote into this deployment's checkout, if any."""
    found = root / RELEASE_FILE
    return found.read_text().strip() or None if found.is_file() else None


def with_release(plan: StackPlan, release: str | None) -> StackPlan:
    """Name the routed services' containers after `release` (`<project>-<service>-<release>-N`).

    Without a release (`make up`, previews by hand) names stay Compose's: one release only.
    """
    if plan.routing is None or release is None:
        return plan
    if not _RELEASE.match(release):
        raise ValueError(f"slipway:release {release!r}: use lowercase letters, digits and -")
    for service in plan.services:
        if service.name not in plan.routing.routes:
            continue
        count = len(service.container_names)
        service.container_names = [
            f"{plan.project}-{service.name}-{release}-{n}" for n in range(1, count + 1)
        ]
        release_labels = {RELEASE_LABEL: release, PROJECT_LABEL: plan.project}
        service.replica_args = [
            {**extra, "labels": compose_labels.merged(extra.get("labels"), release_labels)}
            for extra in service.replica_args
        ]
    plan.routing = replace(plan.routing, release=release)
    return plan


def routing_output(plan: StackPlan) -> dict[str, Any] | None:
    """The `routing` stack output the service's cutover reads (None: nothing routed)."""
    routing = plan.routing
    if routing is None:
        return None
    services = []
    for name, route in routing.routes.items():
        service = plan.service(name)
        network = service.networks[0].network if service.networks else None
        docker_network = next((n.name for n in plan.networks if n.key == network), None)
        services.append(
            {
                "service": name,
                "containers": list(service.container_names),
                "network": docker_network,
                **route.as_output(),
            }
        )
    return {
        "project": plan.project,
        "listen": routing.listen,
        "release": routing.release,
        "services": services,
    }
