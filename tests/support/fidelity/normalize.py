"""Normalization, in one place: what makes two deployments of one case comparable (pure).

Differences by design are removed here, never in the comparison: the project names
(`fa…` vs `fb…`), the `FID_*` values each side gets (ports, subnets), container, image,
network and volume IDs, addresses Docker assigns, and the names of anonymous volumes.
Objects become views of the fields the suite compares (see `container_view`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PROJECT = "<project>"
ANONYMOUS = "<anonymous>"
# Labels that carry a digest of the side's own files or images: different by design.
DESIGN_LABELS = ("com.docker.compose.config-hash", "com.docker.compose.image")
DEPENDS_ON = "com.docker.compose.depends_on"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CONFIG_KEYS = (
    "Env", "Cmd", "Entrypoint", "User", "WorkingDir", "Labels", "ExposedPorts", "Healthcheck",
    "Hostname", "Domainname", "StopSignal", "StopTimeout", "Tty", "OpenStdin", "StdinOnce",
    "AttachStdin", "AttachStdout", "AttachStderr", "Volumes",
)  # fmt: skip
_IMAGE_KEYS = ("Env", "Cmd", "Entrypoint", "User", "WorkingDir", "Volumes", "ExposedPorts")
_NETWORK_KEYS = ("Driver", "Internal", "Attachable", "EnableIPv6", "Options", "Labels", "Scope")


def replacements(objects: Mapping[str, Any], project: str, variables: Mapping[str, str]) -> dict:
    """Side-specific text → placeholder: the project, `FID_*` values, IDs and addresses."""
    table = {project: PROJECT}
    for name, value in variables.items():
        if name.startswith(("FID_PORT", "FID_SUBNET", "DEMO_WEB_PORT", "FID_EXTERNAL")):
            table[value] = f"<{name}>"
    for kind, doc in objects.items():
        if kind.startswith("container "):
            table[doc["Id"]] = table[doc["Id"][:12]] = "<container-id>"
            table[doc["Image"]] = "<image-id>"
            for net in (doc["NetworkSettings"].get("Networks") or {}).values():
                for key in ("IPAddress", "GlobalIPv6Address", "MacAddress", "NetworkID"):
                    if net.get(key):
                        table[net[key]] = f"<{key}>"
                for key in ("Gateway", "IPv6Gateway"):
                    if net.get(key):
                        table[net[key]] = f"<{key}>"
            for mount in doc["Mounts"]:
                if mount.get("Name") and _anonymous(mount["Name"], objects):
                    table[mount["Name"]] = ANONYMOUS
        elif kind.startswith("network "):
            table[doc["Id"]] = "<network-id>"
            for config in doc["IPAM"].get("Config") or []:
                for key in ("Subnet", "Gateway"):
                    if config.get(key) and config[key] not in table:
                        table[config[key]] = f"<network-{key.lower()}>"
    return table


def _anonymous(name: str, objects: Mapping[str, Any]) -> bool:
    """Engine-named (64 hex) or a volume without a Compose key: an anonymous volume."""
    doc = objects.get(f"volume {name}")
    if doc is not None:
        return "com.docker.compose.volume" not in (doc.get("Labels") or {})
    return bool(_HEX64.match(name))


def replace(value: Any, table: Mapping[str, str]) -> Any:
    """`value` with every occurrence of a table key replaced, in strings and mapping keys;
    longer keys first (a full ID before its prefix)."""
    keys = sorted(table, key=len, reverse=True)

    def text(s: str) -> str:
        for key in keys:
            if key in s:
                s = s.replace(key, table[key])
        return s

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return text(v)
        if isinstance(v, Mapping):
            return {text(str(k)): walk(item) for k, item in v.items()}
        if isinstance(v, list):
            return [walk(item) for item in v]
        return v

    return walk(value)


def container_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields of a container, its image and its probes."""
    config = {k: doc["Config"].get(k) for k in _CONFIG_KEYS}
    config["Env"] = sorted(config["Env"] or [])  # order has no effect on a process
    config["Labels"] = {k: v for k, v in (config["Labels"] or {}).items() if k not in DESIGN_LABELS}
    if config["Labels"].get(DEPENDS_ON):  # from a map in Compose: its order varies per run
        config["Labels"][DEPENDS_ON] = ",".join(sorted(config["Labels"][DEPENDS_ON].split(",")))
    host = dict(doc["HostConfig"])
    # Binds, Mounts and Tmpfs are three ways to ask for one mount (the two sides choose
    # differently); what the container got is compared: `Mounts` below and the probes.
    requested = [host.pop(k, None) or [] for k in ("Binds", "Mounts", "Tmpfs")]
    # Compose keeps extra_hosts and ulimits as maps: their order varies from one of its runs
    # to the next, so it means nothing here.
    for key in ("ExtraHosts", "Ulimits"):
        if host.get(key):
            host[key] = sorted(host[key], key=str)
    probes = dict(doc.get("Probes") or {})
    if "hosts" in probes:
        probes["hosts"] = "\n".join(sorted(probes["hosts"].splitlines()))
    networks = {
        name: {
            "Aliases": sorted(a for a in net.get("Aliases") or [] if a != doc["Id"][:12]),
            "IPAMConfig": net.get("IPAMConfig"),
            "DriverOpts": net.get("DriverOpts"),
            "Links": net.get("Links"),
        }
        for name, net in (doc["NetworkSettings"].get("Networks") or {}).items()
    }
    mounts = {
        m["Destination"]: {k: m.get(k) for k in ("Type", "Source", "RW", "Propagation", "Driver")}
        for m in doc["Mounts"]
    }
    tmpfs = list(requested[2]) + [m["Target"] for m in requested[1] if m["Type"] == "tmpfs"]
    mounts.update({target: {"Type": "tmpfs"} for target in tmpfs})
    state = doc["State"]
    image = doc.get("ImageConfig") or {}
    return {
        "Config": config,
        "HostConfig": host,
        "Mounts": mounts,
        "Networks": networks,
        "State": {
            "Status": state["Status"],
            "ExitCode": state["ExitCode"],
            "Health": (state.get("Health") or {}).get("Status"),
        },
        "Image": {k: image.get(k) for k in _IMAGE_KEYS},
        "Probe": probes,
    }


def network_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: doc.get(k) for k in _NETWORK_KEYS}
    view["Labels"] = {k: v for k, v in (view["Labels"] or {}).items() if k not in DESIGN_LABELS}
    view["IPAM"] = doc["IPAM"]
    return view


def volume_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: doc.get(k) for k in ("Driver", "Labels", "Options", "Scope")}
    view["Labels"] = {k: v for k, v in (view["Labels"] or {}).items() if k not in DESIGN_LABELS}
    return view


_VIEWS = {
    "container": container_view,
    "network": network_view,
    "volume": volume_view,
    "host": dict,  # `host ports`: what the published ports accept, by variable name
}


class Normalize:
    """The suite's normalizer: views, then each side's replacements (see `diff.diff`)."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        self.tables = tables  # side → replacements

    def __call__(self, objects: Mapping[str, Any], side: str) -> dict[str, Any]:
        table = self.tables[side]
        out = {}
        for name, doc in objects.items():
            kind = name.split(" ", 1)[0]
            if kind == "volume" and _anonymous(name.split(" ", 1)[1], objects):
                continue  # compared through the mounts of the containers that use them
            out[replace(name, table)] = replace(_VIEWS[kind](doc), table)
        return out
