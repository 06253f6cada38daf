"""What the Docker engine runs for one Compose project: each container's identity, image,
config and state. Read through the Engine API on its unix socket (a few milliseconds, no
process started), else with three docker CLI calls (an `ssh://` or `tcp://` host); both
bounded by timeouts.

Slipway does not set `com.docker.compose.config-hash` (components/compose_stack/
compose_labels.py says why), so a container's config is proved by its id (a container's
config cannot change without a new one) and by a hash of its inspected Config, HostConfig
and networks (what `docker update` or `docker network disconnect` can change in place),
both recorded when a deployment ended healthy. Its image is proved by the image id it
runs, and by the tags that name that image (pulumi-docker creates containers from the image
id; the build tag is `name:ctx-<digest>`): a tag rebuilt with other content leaves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from webhook.orchestrator.http_clients import engine_client

LABEL = "com.docker.compose"
_TIMEOUT = 20
_DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineError(RuntimeError):
    """The engine did not answer; nothing can be proved."""


@dataclass(frozen=True)
class ContainerState:
    name: str
    id: str
    service: str
    number: str
    image_id: str  # the image the container runs
    image_tags: tuple[str, ...]  # the tags that name that image now
    status: str  # running, exited, restarting, ...
    exit_code: int
    restart_count: int
    started_at: str
    health: str  # healthy, unhealthy, starting, "" without a healthcheck
    config_hash: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def read_project(project: str, docker_host: str | None = None) -> dict[str, ContainerState]:
    """The project's containers by name (one-off `run` containers left out)."""
    host = docker_host or os.environ.get("DOCKER_HOST") or f"unix://{_DEFAULT_SOCKET}"
    if host.startswith("unix://"):
        inspected, images = _read_api(project, host.removeprefix("unix://"))
    else:
        inspected, images = _read_cli(project, {**os.environ, "DOCKER_HOST": host})
    tags = {image["Id"]: own_tags(image.get("RepoTags") or [], project) for image in images}
    out = {}
    for item in inspected:
        labels = item["Config"].get("Labels") or {}
        if labels.get(f"{LABEL}.oneoff") == "True":
            continue
        state = item.get("State") or {}
        container = ContainerState(
            name=str(item.get("Name", "")).lstrip("/"),
            id=item["Id"],
            service=labels.get(f"{LABEL}.service", ""),
            number=labels.get(f"{LABEL}.container-number", ""),
            image_id=item.get("Image", ""),
            image_tags=tags.get(item.get("Image", ""), ()),
            status=str(state.get("Status", "")),
            exit_code=int(state.get("ExitCode") or 0),
            restart_count=int(item.get("RestartCount") or 0),
            started_at=str(state.get("StartedAt", "")),
            health=str((state.get("Health") or {}).get("Status", "")),
            config_hash=config_hash(item),
        )
        out[container.name] = container
    return out


def own_tags(tags: list[str], project: str) -> tuple[str, ...]:
    """The tags that matter to `project`: all but other projects' build tags (`name:ctx-…`,
    components/compose_stack/images.py), which come and go with those stacks."""
    return tuple(sorted(t for t in tags if ":ctx-" not in t or t.startswith(f"{project}-")))


def config_hash(inspected: Mapping[str, Any]) -> str:
    """SHA-256 of what defines a container: Config, HostConfig, networks by id."""
    networks = (inspected.get("NetworkSettings") or {}).get("Networks") or {}
    subject = {
        "Config": inspected.get("Config"),
        "HostConfig": inspected.get("HostConfig"),
        "Networks": {name: (n or {}).get("NetworkID") for name, n in networks.items()},
    }
    return hashlib.sha256(json.dumps(subject, sort_keys=True).encode()).hexdigest()


def differences(
    recorded: Mapping[str, ContainerState], live: Mapping[str, ContainerState]
) -> list[str]:
    """Why `live` is not the engine state `recorded` when the deployment was healthy; []
    when it is, container for container."""
    problems = []
    for name in sorted(set(recorded) - set(live)):
        problems.append(f"container {name} is missing")
    for name in sorted(set(live) - set(recorded)):
        problems.append(f"container {name} was not there when it was healthy")
    for name in sorted(set(recorded) & set(live)):
        was, now = recorded[name], live[name]
        if now.id != was.id:
            problems.append(f"container {name} was recreated (id {was.id[:12]} → {now.id[:12]})")
            continue
        if now.image_id != was.image_id:
            problems.append(
                f"container {name} runs image {now.image_id[:19]}, not {was.image_id[:19]}"
            )
        for tag in sorted(set(was.image_tags) - set(now.image_tags)):
            problems.append(
                f"{tag} no longer names the image {name} runs ({now.image_id[:19]}): the tag "
                "was rebuilt with other content or removed"
            )
        if now.config_hash != was.config_hash:
            problems.append(f"container {name}'s config changed in place")
        if now.status != was.status:
            problems.append(f"container {name} is {now.status}, was {was.status}")
        elif now.restart_count != was.restart_count or now.started_at != was.started_at:
            problems.append(f"container {name} restarted since")
        if now.health == "unhealthy":
            problems.append(f"container {name} reports unhealthy")
    return problems


def summary(containers: Mapping[str, ContainerState]) -> str:
    """One short line per container, for a deployment's proof."""
    return "; ".join(
        f"{c.name} id {c.id[:12]} image {c.image_id[:19]} {c.status}"
        + (f" {c.health}" if c.health else "")
        + f" config {c.config_hash[:12]}"
        for c in sorted(containers.values(), key=lambda c: c.name)
    )


def from_json(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, ContainerState]:
    """Containers as `as_json` wrote them (by name)."""
    return {
        name: ContainerState(**{**value, "image_tags": tuple(value.get("image_tags") or ())})
        for name, value in raw.items()
    }


def _read_api(project: str, socket: str) -> tuple[list[dict], list[dict]]:
    """`docker inspect` of the project's containers and of their images, by the Engine API
    on the unix socket `socket` (the CLI prints these same JSON documents)."""
    if not Path(socket).exists():
        raise EngineError(f"no Docker socket at {socket}")
    filters = json.dumps({"label": [f"{LABEL}.project={project}"]})
    api = engine_client(socket, _TIMEOUT)  # one per socket: no client set-up per read
    try:
        listed = _get(api, f"/containers/json?all=1&filters={quote(filters)}")
        inspected = [_get(api, f"/containers/{c['Id']}/json", True) for c in listed]
        inspected = [c for c in inspected if c]
        image_ids = sorted({str(c.get("Image", "")) for c in inspected} - {""})
        images = [_get(api, f"/images/{quote(i)}/json", True) for i in image_ids]
    except httpx.HTTPError as error:
        raise EngineError(f"Docker Engine API at {socket}: {error}") from error
    return inspected, [i for i in images if i]


def _get(api: httpx.Client, path: str, missing_ok: bool = False) -> Any:
    answer = api.get(path)
    if answer.status_code == 404 and missing_ok:  # removed meanwhile
        return None
    if answer.status_code != 200:
        raise EngineError(f"Docker Engine API GET {path}: {answer.status_code} {answer.text[:200]}")
    return answer.json()


def _read_cli(project: str, env: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """The same as `_read_api`, with three docker CLI calls (any DOCKER_HOST)."""
    listed = _docker(
        ["ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL}.project={project}"], env
    )
    ids = listed.split()
    if not ids:
        return [], []
    inspected = json.loads(_docker(["container", "inspect", *ids], env, missing_ok=True) or "[]")
    image_ids = sorted({str(c.get("Image", "")) for c in inspected} - {""})
    images = json.loads(_docker(["image", "inspect", *image_ids], env, missing_ok=True) or "[]")
    return inspected, images


def _docker(args: list[str], env: dict[str, str], missing_ok: bool = False) -> str:
    """stdout of `docker args`; EngineError when it fails (a missing object is allowed to
    fail with `missing_ok`: inspect still prints the others)."""
    try:
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=_TIMEOUT, env=env,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineError(f"docker {args[0]}: {error}") from error
    if done.returncode != 0 and not (missing_ok and "No such" in done.stderr):
        raise EngineError(f"docker {' '.join(args[:2])} failed: {done.stderr.strip()[:300]}")
    return done.stdout
