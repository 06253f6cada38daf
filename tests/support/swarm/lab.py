"""The 3-node Swarm lab of the tests: scripts/swarm-lab.sh with a name and subnet of its own.

Each test session starts its own lab (never the one `make up` may use) and stops it at the
end; `SwarmLab` runs the docker CLI against the manager or one node.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "swarm-lab.sh"


def missing_parts() -> list[str]:
    """Why this machine cannot run the lab (empty when it can)."""
    parts = []
    if os.geteuid() != 0:
        parts.append("needs root (network namespaces, a bridge)")
    for command in ("dockerd", "docker", "ip", "iptables", "nsenter", "unshare"):
        if not shutil.which(command):
            parts.append(f"needs `{command}` on PATH")
    return parts


@dataclass
class SwarmLab:
    """A running lab: `nodes` are the engines' endpoints (the first is the manager)."""

    env: dict[str, str]  # SLIPWAY_SWARM_LAB_NAME / _NET of this lab
    nodes: list[str]
    addrs: list[str]

    @property
    def manager(self) -> str:
        return self.nodes[0]

    def docker(self, *args: str, node: int = 0, timeout: float = 120, check: bool = True):
        """`docker ARGS` on node `node` (0: the manager); raises with its output on failure."""
        done = subprocess.run(
            ["docker", "-H", self.nodes[node], *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
        return done

    def script(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """scripts/swarm-lab.sh ARGS for this lab."""
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            env={**os.environ, **self.env}, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def load(self, *images: str) -> None:
        """Copy images from the project's engine into every node (nothing can be pulled)."""
        done = self.script("load", *images)
        assert done.returncode == 0, done.stderr

    def stop_node(self, number: int) -> None:
        """Stop node `number`'s dockerd (1 is the manager): a node lost, as the Swarm sees it."""
        done = self.script("node-stop", str(number))
        assert done.returncode == 0, done.stderr

    def start_node(self, number: int) -> None:
        """Start node `number`'s dockerd again; returns once the manager sees it Ready."""
        done = self.script("node-start", str(number))
        assert done.returncode == 0, done.stderr

    def node_of_tasks(self, service: str) -> dict[str, str]:
        """Running task name → the hostname of the node it runs on."""
        done = self.docker(
            "service", "ps", service, "--filter", "desired-state=running",
            "--format", "{{.Name}}.{{.ID}} {{.Node}} {{.CurrentState}}",
        )  # fmt: skip
        tasks = {}
        for line in done.stdout.splitlines():
            name, node, state = line.split(" ", 2)
            if state.startswith("Running"):
                tasks[name] = node
        return tasks


WAIT_LIMIT = 180.0  # a bound for the waits below, never asserted on


def wait_for(probe: Callable[[], Any], what: str, limit: float = WAIT_LIMIT) -> Any:
    """`probe()`'s first result that is not None, polled until `limit` seconds pass."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"never saw {what} within {limit:.0f} s")


def http_text(url: str) -> str | None:
    """The body of a 200 answer from `url`, else None."""
    import httpx

    try:
        answer = httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None
    return answer.text.strip() if answer.status_code == 200 else None


def start_lab() -> tuple[SwarmLab, subprocess.CompletedProcess]:
    """Start a lab of this session's own (random name; subnet 10.180-253, by pid)."""
    env = {
        "SLIPWAY_SWARM_LAB_NAME": f"t{uuid.uuid4().hex[:5]}",
        "SLIPWAY_SWARM_LAB_NET": str(180 + os.getpid() % 37 * 2),
    }
    lab = SwarmLab(env=env, nodes=[], addrs=[])
    started = lab.script("start")
    if started.returncode != 0:
        return lab, started
    exports = lab.script("env").stdout
    values = dict(
        line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if "=" in line
    )
    lab.nodes = values["SWARM_LAB_NODES"].strip("'").split()
    lab.addrs = values["SWARM_LAB_ADDRS"].strip("'").split()
    return lab, started
