"""What the Docker engine says before anything is declared: its API version and the
containers of the stack that exist already (the docker CLI, bounded by timeouts).

Under Pulumi's mocks (tests) or without a reachable engine nothing is known (`None`), and
the plan is declared as translated.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

_TIMEOUT = 30


@dataclass(frozen=True)
class EngineFacts:
    """The engine's API version (`(1, 41)`) and `docker inspect` of existing containers."""

    api_version: tuple[int, int] | None = None
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def container(self, name: str) -> dict[str, Any] | None:
        return self.containers.get(name)


def under_mocks() -> bool:
    """True when the program runs under Pulumi's mocks (no engine is meant to be asked)."""
    from pulumi.runtime import mocks, settings

    return isinstance(getattr(settings.SETTINGS, "monitor", None), mocks.MockMonitor)


def parse_version(text: str) -> tuple[int, int] | None:
    """`"1.41"` as `(1, 41)`; None when it is not a version."""
    major, _, minor = text.strip().partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def read(names: Sequence[str], docker_host: str | None = None) -> EngineFacts | None:
    """Ask the engine at `docker_host` (None: the CLI's default) for its API version and
    the containers called `names`; None when the engine does not answer."""
    env = {**os.environ, **({"DOCKER_HOST": docker_host} if docker_host else {})}
    with ThreadPoolExecutor(max_workers=1) as pool:  # both questions at once
        # A missing name makes `inspect` exit 1 but the others are still printed.
        inspected = pool.submit(_docker, ["container", "inspect", *names], env) if names else None
        version = _docker(["version", "--format", "{{.Server.APIVersion}}"], env)
        listed = inspected.result() if inspected is not None else None
    if version is None or version.returncode != 0:
        return None
    found: dict[str, dict[str, Any]] = {}
    if listed is not None and listed.stdout.strip():
        for item in json.loads(listed.stdout):
            found[str(item.get("Name", "")).lstrip("/")] = item
    return EngineFacts(api_version=parse_version(version.stdout), containers=found)


def _docker(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=_TIMEOUT, env=env,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
