"""Networks: top-level networks, a service's attachments, and `links` aliases (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from components.compose_stack.plan import Dependency, NetworkAttachment, NetworkPlan, ServicePlan
from components.compose_stack.report import Report
from components.compose_stack.support import NETWORK_KEYS
from components.compose_stack.values import copy_keys, labels, strings


def network(key: str, spec: Mapping[str, Any], report: Report) -> NetworkPlan:
    """A top-level Compose network as a docker.Network (or an external lookup)."""
    where = f"network `{key}`"
    spec = report.check(where, NETWORK_KEYS, spec)
    name = spec.get("name", key)
    if spec.get("external"):
        return NetworkPlan(key=key, name=name, external=True)
    args: dict[str, Any] = {"name": name}
    copy_keys(
        spec,
        args,
        {
            "driver": "driver",
            "internal": "internal",
            "attachable": "attachable",
            "enable_ipv6": "ipv6",
        },
    )
    if spec.get("driver_opts"):
        args["options"] = strings(spec["driver_opts"])
    if spec.get("labels"):
        args["labels"] = labels(spec["labels"])
    ipam = spec.get("ipam") or {}
    if ipam.get("driver"):
        args["ipam_driver"] = ipam["driver"]
    if ipam.get("options"):
        args["ipam_options"] = strings(ipam["options"])
    if ipam.get("config"):
        args["ipam_configs"] = [_ipam_config(c) for c in ipam["config"]]
    return NetworkPlan(key=key, name=name, external=False, args=args)


def _ipam_config(config: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: config[k] for k in ("subnet", "gateway", "ip_range") if config.get(k)}
    if config.get("aux_addresses"):
        out["aux_address"] = strings(config["aux_addresses"])
    return out


def attach(plan: ServicePlan, spec: Mapping[str, Any], where: str, report: Report) -> None:
    """`network_mode` or `networks` of a service; the service name is always an alias."""
    mode = spec.get("network_mode")
    if mode:
        if mode.startswith("service:"):
            plan.network_mode_service = mode.removeprefix("service:")
            plan.depends_on.append(Dependency(plan.network_mode_service, "started"))
        else:
            plan.args["network_mode"] = mode
        return
    for key, attachment in (spec.get("networks") or {}).items():
        attachment = attachment or {}
        aliases = [plan.name, *(a for a in attachment.get("aliases") or [] if a != plan.name)]
        extra: dict[str, Any] = {}
        copy_keys(
            attachment,
            extra,
            {
                "ipv4_address": "ipv4_address",
                "ipv6_address": "ipv6_address",
                "mac_address": "mac_address",
                "link_local_ips": "link_local_ips",
                "gw_priority": "gw_priority",
            },
        )
        if attachment.get("driver_opts"):
            extra["driver_opts"] = [f"{k}={v}" for k, v in attachment["driver_opts"].items()]
        if attachment.get("priority") is not None:
            report.warn(
                where, f"networks.{key}.priority", "attachment order does not matter on one host"
            )
        plan.networks.append(NetworkAttachment(network=key, aliases=tuple(aliases), args=extra))


def apply_links(raw: Mapping[str, Any], services: dict[str, ServicePlan], report: Report) -> None:
    """`links: [db:database]` becomes alias `database` of `db` on the networks both share."""
    for name, spec in raw.items():
        for link in spec.get("links") or []:
            target, _, alias = link.partition(":")
            linked = services.get(target)
            if linked is None:
                report.reject(
                    f"service `{name}`", f"links: {link}", f"service {target} is not in this stack"
                )
                continue
            if not any(d.service == target for d in services[name].depends_on):
                services[name].depends_on.append(Dependency(target, "started"))
            if not alias or alias == target:
                continue
            shared = {a.network for a in services[name].networks}
            taken = _alias_owners(services, shared, alias, target)
            if taken:
                report.reject(
                    f"service `{name}`",
                    f"links: {link}",
                    f"the link alias becomes a network alias of `{target}`, and `{alias}` "
                    f"already names {', '.join(taken)} on the same network: rename the alias",
                )
                continue
            linked.networks = [
                NetworkAttachment(a.network, (*a.aliases, alias), a.args)
                if a.network in shared and alias not in a.aliases
                else a
                for a in linked.networks
            ]


def _alias_owners(
    services: dict[str, ServicePlan], networks: set[str], alias: str, linked: str
) -> list[str]:
    """Services other than `linked` that answer to `alias` on one of `networks`."""
    return [
        f"`{plan.name}`"
        for plan in services.values()
        if plan.name != linked
        and any(a.network in networks and alias in a.aliases for a in plan.networks)
    ]


_PROTOCOLS = {"tcp": 0, "udp": 1, "sctp": 2}


def in_read_order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ports in the order the provider reads them back from Docker (by container port, then
    protocol, host port and host address, IPv4 first), so that a deployed container shows no
    difference from its inputs (the provider compares `ports` item by item)."""

    def key(port: dict[str, Any]) -> tuple:
        address = ipaddress.ip_address(port.get("ip", "0.0.0.0").strip("[]"))
        return (
            port["internal"],
            _PROTOCOLS.get(port["protocol"], 3),
            port.get("external", 0),
            address.version,
            address,
        )

    return sorted(entries, key=key)


def ports(entry: Mapping[str, Any], where: str, report: Report) -> list[dict[str, Any]]:
    """One `ports` entry (long syntax, as Compose resolves it) as pulumi-docker ports.

    Without `host_ip`, Compose lets Docker publish on every address, IPv4 and IPv6; the
    provider would bind 0.0.0.0 only, so the port is published on 0.0.0.0 and on `::`
    (Docker gives both the same host port).
    """
    published = str(entry.get("published") or "")
    if "-" in published:
        report.reject(
            where,
            f"ports: {published}:{entry['target']}",
            "a host port range for one container port: pick one host port",
        )
        return []
    out: dict[str, Any] = {
        "internal": int(entry["target"]),
        "protocol": entry.get("protocol", "tcp"),
    }
    if published:
        out["external"] = int(published)
    if entry.get("host_ip"):
        return [{**out, "ip": entry["host_ip"]}]
    return [{**out, "ip": "0.0.0.0"}, {**out, "ip": "::"}]


def _twins(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `::` entries that `ports` added beside a `0.0.0.0` one (no `host_ip` given)."""
    v4 = {_key(p) for p in entries if p.get("ip") == "0.0.0.0"}
    return [p for p in entries if p.get("ip") == "::" and _key(p) in v4]


def _key(port: Mapping[str, Any]) -> tuple:
    return port["internal"], port["protocol"], port.get("external")


def as_engine_publishes(
    entries: list[dict[str, Any]], existing: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """`entries` without the `::` twins when the engine does not publish them.

    An engine without IPv6 publishing (Docker 20.10 without the userland proxy, or with
    `ip6tables` off) binds only `0.0.0.0` and reports only that: the provider then reads
    one entry where two were declared, and replaced the container at every `up`. The
    evidence is the stack's own running container of that name: when it reports the IPv4
    binding of a twin pair but not the IPv6 one, the pair is declared as the engine reports
    it (the provider compares declared ports with what it reads back).
    """
    twins = _twins(entries)
    if not twins or existing is None:
        return entries
    if not (existing.get("State") or {}).get("Running"):
        return entries
    reported = (existing.get("NetworkSettings") or {}).get("Ports") or {}
    for twin in twins:
        bindings = reported.get(f"{twin['internal']}/{twin['protocol']}") or []
        addresses = {b.get("HostIp") for b in bindings}
        if "0.0.0.0" not in addresses or "::" in addresses:
            return entries
    dropped = {id(t) for t in twins}
    return [p for p in entries if id(p) not in dropped]
