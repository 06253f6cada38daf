"""Wait for a container to be healthy before its dependants are created.

Compose starts a `depends_on: condition: service_healthy` dependant as soon as the
dependency's Docker healthcheck passes. The provider's own `wait` input polls the
container once a second, so each healthy link of a chain cost up to a second more than
Compose's (docs/full-up.md). Here the program waits instead:
the dependants depend on `healthy(...)`, which asks the engine every 0.1 s (one HTTP
request on the engine's unix socket; through the docker CLI every 0.5 s for other
DOCKER_HOSTs). Like Compose, it fails at once when the container is reported `unhealthy`
or has stopped, and after `timeout` seconds otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from typing import Any

SOCKET_INTERVAL = 0.1
CLI_INTERVAL = 0.5
DEFAULT_SOCKET = "/var/run/docker.sock"


class ContainerNotHealthyError(Exception):
    """A container that dependants wait for did not become healthy."""


def socket_path(docker_host: str | None) -> str | None:
    """The unix socket of `docker_host` (else $DOCKER_HOST, else Docker's default); None
    for a tcp:// or ssh:// engine (asked through the docker CLI)."""
    host = docker_host or os.environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
    return host.removeprefix("unix://") if host.startswith("unix://") else None


def verdict(state: Mapping[str, Any] | None) -> str | None:
    """`healthy`, `failed: <why>` or None (still starting) for a container's `State`."""
    if state is None:
        return "failed: the container no longer exists"
    health = (state.get("Health") or {}).get("Status")
    if health == "healthy":
        return "healthy"
    if health == "unhealthy":
        return "failed: its healthcheck reports it unhealthy"
    if not state.get("Running", False) and state.get("Status") not in ("created", "restarting"):
        status, code = state.get("Status", "not running"), state.get("ExitCode")
        return f"failed: it is {status} (exit code {code})"
    if health is None:
        return "failed: it has no healthcheck (nor has its image a HEALTHCHECK)"
    return None


async def _state_by_socket(path: str, container: str) -> dict[str, Any] | None:
    reader, writer = await asyncio.open_unix_connection(path)
    try:
        writer.write(f"GET /containers/{container}/json HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b""
    if status == b"404":
        return None
    if status != b"200":
        raise OSError(f"the engine answered {head.splitlines()[0].decode(errors='replace')}")
    return json.loads(body).get("State") or {}


async def _state_by_cli(container: str, docker_host: str | None) -> dict[str, Any] | None:
    env = {**os.environ, **({"DOCKER_HOST": docker_host} if docker_host else {})}
    process = await asyncio.create_subprocess_exec(
        "docker", "inspect", "--type", "container", "--format", "{{json .State}}", container,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return json.loads(out) if process.returncode == 0 and out.strip() else None


async def container_state(container: str, docker_host: str | None) -> dict[str, Any] | None:
    """`docker inspect`'s `State` of `container` (None when it does not exist)."""
    path = socket_path(docker_host)
    if path is not None:
        return await _state_by_socket(path, container)
    return await _state_by_cli(container, docker_host)


async def wait_healthy(
    service: str, container: str, timeout: float, docker_host: str | None = None
) -> None:
    """Return once `container` of `service` is healthy; ContainerNotHealthyError when it is
    reported unhealthy, stops, or is not healthy after `timeout` seconds."""
    interval = SOCKET_INTERVAL if socket_path(docker_host) else CLI_INTERVAL
    deadline = time.monotonic() + timeout
    said = None
    while True:
        said = verdict(await container_state(container, docker_host))
        if said == "healthy":
            return
        if said is not None or time.monotonic() >= deadline:
            why = said.removeprefix("failed: ") if said else f"not healthy after {timeout:g} s"
            raise ContainerNotHealthyError(
                f"service `{service}`: container {container} did not become healthy ({why}), "
                "so the services that wait for it are not started; see `docker inspect "
                f"{container}` and `docker logs {container}`, fix it and deploy again"
            )
        await asyncio.sleep(interval)
