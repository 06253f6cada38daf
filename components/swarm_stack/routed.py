"""Routed services on Swarm (`x-slipway`): one Swarm service per release, beside the live one.

Pure. The block is the one of the single-engine target (components/compose_stack/routes.py).
With a release (`slipway:release` or the deployment's `.slipway-release`), a routed service
becomes `<project>_<service>_<release>`, labelled with the release; the previous release's
service stays running (SwarmStack declares it `retain_on_delete`) until the service's
cutover (webhook/cutover/swarm_engine.py) has switched the proxy and drained it. Swarm's own
rolling update is never used for it: it replaces tasks, and the proxy would dial a stopped
one. The networks of routed services are made attachable: the proxy container joins them,
and a release's service has no virtual IP (endpoint mode `dnsrr`): the proxy dials tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from components.compose_stack.routes import (
    _LISTEN,
    _RELEASE,
    _ROUTE_KEYS,
    EXTENSION,
    PROJECT_LABEL,
    RELEASE_LABEL,
    Route,
    Routing,
)
from components.swarm_stack.plan import SwarmPlan, SwarmService

TARGET = "swarm"  # the routing output's `target`: the cutover picks its engine by it


def parse(
    top: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]], problems: list[str]
) -> Routing | None:
    """The `x-slipway` block checked against the Compose services `specs`."""
    raw = top.get(EXTENSION)
    if not raw:
        return None
    where = f"`{EXTENSION}`"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping with `proxy` and `routes`")
        return None
    listen = str((raw.get("proxy") or {}).get("listen") or "")
    if not _LISTEN.match(listen):
        problems.append(
            f"{where}: `proxy.listen` must be ip:port of the manager (e.g. 10.0.0.5:8080), "
            f"got {listen!r}"
        )
    routes = {}
    for name, spec in (raw.get("routes") or {}).items():
        route = _route(name, spec or {}, specs.get(name), problems)
        if route is not None:
            routes[name] = route
    if not routes:
        problems.append(f"{where}: `routes` names no service; route at least one")
    return Routing(listen=listen, routes=routes)


def _route(
    name: str, spec: Mapping[str, Any], service: Mapping[str, Any] | None, problems: list[str]
) -> Route | None:
    where = f"`{EXTENSION}.routes.{name}`"
    if service is None:
        problems.append(f"{where}: no service `{name}` in the Compose file")
        return None
    unknown = sorted(set(spec) - _ROUTE_KEYS)
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    port = spec.get("port")
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.append(f"{where}: `port` must be the container's HTTP port, got {port!r}")
        return None
    for key in ("path", "health"):
        value = spec.get(key)
        if value is not None and not str(value).startswith("/"):
            problems.append(f"{where}: `{key}` must start with /, got {value!r}")
    problems.extend(f"{where}: {why}" for why in cannot_run_twice(service, spec))
    return Route(port, str(spec.get("path") or "/"), spec.get("host") or None, spec.get("health"))


def cannot_run_twice(service: Mapping[str, Any], route: Mapping[str, Any]) -> list[str]:
    """Why two releases of the Swarm service `service` cannot run side by side."""
    reasons = []
    if service.get("ports"):
        reasons.append(
            "publishes ports, which two releases cannot both take (and the proxy is the "
            "public address): remove `ports`"
        )
    writable = sorted(
        str(v.get("source"))
        for v in service.get("volumes") or []
        if v.get("type") in ("volume", "bind") and v.get("source") and not v.get("read_only")
    )
    if writable and not route.get("sharedVolumes"):
        reasons.append(
            f"mounts volume(s) or host folder(s) {', '.join(writable)} read-write, and two "
            "releases would write them at once: mount them read-only, or set "
            "`sharedVolumes: true` when the app allows two writers"
        )
    return reasons


def attach_proxy(plan: SwarmPlan) -> None:
    """Make every network of a routed service attachable (the proxy container joins it)."""
    if plan.routing is None:
        return
    keys = {key for s in plan.services if s.name in plan.routing.routes for key, _ in s.networks}
    for network in plan.networks:
        if network.key in keys and not network.external:
            network.args["attachable"] = True


def with_release(plan: SwarmPlan, release: str | None) -> SwarmPlan:
    """Name each routed service after `release` and label it; without a release (a deploy
    by hand) the services keep `docker stack deploy`'s names and nothing routes to them."""
    if plan.routing is None or release is None:
        return plan
    if not _RELEASE.match(release):
        raise ValueError(f"slipway:release {release!r}: use lowercase letters, digits and -")
    for service in plan.routed_services():
        service.service_name = f"{plan.project}_{service.name}_{release}"
        # No virtual IP: the proxy dials the tasks, and a VIP's load balancer is programmed
        # into every container of the network (the proxy's too) each time a release's
        # service comes or goes, which dropped the new connections of that moment.
        service.args["endpoint_spec"] = {**service.args.get("endpoint_spec", {}), "mode": "dnsrr"}
        labels = service.args.get("labels") or []
        service.args["labels"] = [
            *labels,
            {"label": RELEASE_LABEL, "value": release},
            {"label": PROJECT_LABEL, "value": plan.project},
        ]
    plan.routing = replace(plan.routing, release=release)
    return plan


def is_release(plan: SwarmPlan, service: SwarmService) -> bool:
    """The service is one release of a routed service: the cutover gates it, not `up`."""
    return (
        plan.routing is not None
        and plan.routing.release is not None
        and (service.name in plan.routing.routes)
    )


def routing_output(plan: SwarmPlan, docker_host: str | None) -> dict[str, Any] | None:
    """The `routing` stack output the service's cutover reads (None: nothing routed):
    `containers` name each routed service's Swarm service of this release."""
    routing = plan.routing
    if routing is None:
        return None
    names = {n.key: n.name for n in plan.networks}
    services = []
    for name, route in routing.routes.items():
        service = plan.service(name)
        network = names.get(service.networks[0][0]) if service.networks else None
        services.append(
            {
                "service": name,
                "containers": [service.service_name],
                "network": network,
                **route.as_output(),
            }
        )
    return {
        "project": plan.project,
        "listen": routing.listen,
        "release": routing.release,
        "services": services,
        "target": TARGET,
        "dockerHost": docker_host,
    }
