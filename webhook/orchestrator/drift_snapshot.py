"""The engine pre-check of a drift check: is the engine exactly as it was at the stack's
last full refresh that found it in sync? Then that refresh's verdict still holds, and the
check records `in sync` via `engine snapshot` without starting Pulumi (docs/drift.md).

A full refresh lists the engine objects it read (webhook/runners/drift_report.py
`engine_inventory`: containers, networks, volumes, images). When it finds the stack in
sync, the engine is read for exactly those objects (Docker Engine API on the unix socket,
a few milliseconds, no process started) and what it shows is the snapshot, kept in memory:
per container its id, name, image id, whether it runs and its status, the networks it is
attached to, its mounts and a hash of its Config, HostConfig and networks
(engine_state.config_hash); per network its id, name, driver, options, labels and IPAM; per
volume its name, driver, labels, options and creation time; per image the id its name
points to. Restart count, start time and health are left out: a restart by the
container's own policy is not drift. The snapshot is kept only when it agrees with what
the refresh itself read (container ids, images, networks, running), so a change made
between the refresh and the read is not absorbed into it.

`differences` compares a snapshot with the engine now (pure); any difference, no snapshot,
another commit, a deployment since, or a snapshot older than
SLIPWAY_DRIFT_FULL_REFRESH_SECONDS makes the check a full refresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from webhook.orchestrator.engine_state import config_hash
from webhook.orchestrator.http_clients import engine_client

VIA_SNAPSHOT = "engine snapshot"
VIA_REFRESH = "refresh"
_TIMEOUT = 20.0
_DEFAULT_SOCKET = "/var/run/docker.sock"
MISSING: dict[str, Any] = {"missing": True}

Prints = dict[str, dict[str, Any]]
"""What the engine shows, per object (`kind id`)."""


class EngineUnreadable(RuntimeError):
    """The engine could not be read here (not a unix socket, or it did not answer)."""


@dataclass(frozen=True)
class Snapshot:
    """The engine as the last in-sync full refresh of a stack left it."""

    sha: str
    deployment_id: int  # the stack's newest deployment when it was taken
    taken_at: float  # time.monotonic() when that refresh started
    objects: tuple[dict[str, Any], ...]  # the refresh's inventory
    prints: Prints


def key(item: Mapping[str, Any]) -> str:
    return f"{item['kind']} {item['id']}"


def container_print(inspected: Mapping[str, Any]) -> dict[str, Any]:
    """What counts of a container (`GET /containers/{id}/json`, as `docker inspect`)."""
    state = inspected.get("State") or {}
    networks = (inspected.get("NetworkSettings") or {}).get("Networks") or {}
    mounts = [
        f"{m.get('Type')} {m.get('Name') or m.get('Source')} → {m.get('Destination')}"
        + ("" if m.get("RW", True) else " (ro)")
        for m in inspected.get("Mounts") or []
    ]
    return {
        "id": inspected.get("Id"),
        "name": str(inspected.get("Name", "")).lstrip("/"),
        "image": inspected.get("Image"),
        "running": bool(state.get("Running")),
        "status": state.get("Status"),
        "networks": sorted(networks),
        "mounts": sorted(mounts),
        "config": config_hash(inspected),
    }


def network_print(inspected: Mapping[str, Any]) -> dict[str, Any]:
    """What counts of a network (`GET /networks/{id}`); its attachments count per container."""
    fields = ("Id", "Name", "Driver", "Internal", "Attachable", "Options", "Labels", "IPAM")
    return {name.lower(): inspected.get(name) for name in fields}


def volume_print(inspected: Mapping[str, Any]) -> dict[str, Any]:
    """What counts of a volume (`GET /volumes/{name}`): one removed and made again is new."""
    fields = ("Name", "Driver", "Labels", "Options", "CreatedAt")
    return {name.lower(): inspected.get(name) for name in fields}


def image_print(inspected: Mapping[str, Any]) -> dict[str, Any]:
    """The image a name points to (`GET /images/{name}/json`)."""
    return {"id": inspected.get("Id")}


_READ = {
    "container": ("/containers/{}/json", container_print),
    "network": ("/networks/{}", network_print),
    "volume": ("/volumes/{}", volume_print),
    "image": ("/images/{}/json", image_print),
}


def engine_socket(docker_host: str | None = None) -> str:
    """The unix socket of the engine the stacks use (DOCKER_HOST); EngineUnreadable when
    it is not one (`ssh://`, `tcp://`: every check is then a full refresh)."""
    host = docker_host or os.environ.get("DOCKER_HOST") or f"unix://{_DEFAULT_SOCKET}"
    if not host.startswith("unix://"):
        raise EngineUnreadable(f"DOCKER_HOST {host} is not a unix socket")
    return host.removeprefix("unix://")


def read(objects: tuple[dict[str, Any], ...], socket: str) -> Prints:
    """What the engine shows now for each object (`{"missing": True}` when it has none)."""
    api = engine_client(socket, _TIMEOUT)
    prints: Prints = {}
    try:
        for item in objects:
            path, make = _READ[item["kind"]]
            name = item["name"] if item["kind"] in ("volume", "image") else item["id"]
            answer = api.get(path.format(quote(str(name), safe="")))
            if answer.status_code == 404:
                prints[key(item)] = MISSING
            elif answer.status_code != 200:
                raise EngineUnreadable(f"GET {path}: {answer.status_code} {answer.text[:200]}")
            else:
                prints[key(item)] = make(answer.json())
    except httpx.HTTPError as error:
        raise EngineUnreadable(f"Docker Engine API at {socket}: {error}") from error
    return prints


def disagreements(objects: tuple[dict[str, Any], ...], prints: Prints) -> list[str]:
    """Where the engine read after a refresh differs from what the refresh read (then the
    engine changed meanwhile and no snapshot is kept); [] when they agree."""
    problems = []
    if not any(item["kind"] in ("container", "network") for item in objects):
        problems.append("no container or network to identify the engine by")
    for item in objects:
        now = prints.get(key(item), MISSING)
        if now.get("missing"):
            problems.append(f"{key(item)} is not in this engine")
        elif item["kind"] == "container":
            seen = {"image": now["image"], "networks": now["networks"], "running": now["running"]}
            wanted = {k: item.get(k) for k in seen}
            if seen != wanted:
                problems.append(f"{key(item)}: refresh read {wanted}, engine shows {seen}")
        elif item["kind"] == "image" and now["id"] != item.get("image"):
            problems.append(f"{key(item)}: refresh read {item.get('image')}, now {now['id']}")
    return problems


def differences(recorded: Prints, live: Prints) -> list[str]:
    """Why the engine now is not the snapshot, field by field; [] when it is the same."""
    problems = []
    for name in sorted(set(recorded) | set(live)):
        was, now = recorded.get(name, MISSING), live.get(name, MISSING)
        if was == now:
            continue
        if now.get("missing") or was.get("missing"):
            problems.append(f"{name} is {'gone' if now.get('missing') else 'new'}")
            continue
        for field in sorted(set(was) | set(now)):
            if was.get(field) != now.get(field):
                old, new = (
                    json.dumps(v, sort_keys=True)[:80] for v in (was.get(field), now.get(field))
                )
                problems.append(f"{name} {field}: {old} → {new}")
    return problems


def why_full(
    snapshot: Snapshot | None, sha: str, deployment_id: int, now: float, full_every: float
) -> str | None:
    """Why this check must be a full refresh before the engine is even read; None when the
    snapshot may stand in for one (if the engine still shows it)."""
    if full_every <= 0:
        return "SLIPWAY_DRIFT_FULL_REFRESH_SECONDS=0: every check is a full refresh"
    if snapshot is None:
        return "no in-sync full refresh since the service started"
    if snapshot.sha != sha:
        return f"the healthy commit is {sha[:12]}, the snapshot is of {snapshot.sha[:12]}"
    if snapshot.deployment_id != deployment_id:
        return f"deployment {deployment_id} came after the snapshot"
    if now - snapshot.taken_at >= full_every:
        return f"the last full refresh is older than {full_every:g} s"
    return None
