"""Our own development engine runs the way a server runs Docker (scripts/docker-engine.sh):
the daemon in a CPU cgroup apart from the containers, and loopback ports forwarded by the
kernel, not by a docker-proxy process. Latency measured on it depends on both
(docs/toolchain.md)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import CACHE_DIR

ENGINE_DIR = CACHE_DIR / "docker"
IMAGE = "slipway/base:busybox"

pytestmark = pytest.mark.docker_engine


def cpu_cgroup(pid: int) -> str:
    """The process's cgroup in the cpu hierarchy (cgroup v1), or its v2 cgroup."""
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return path
    return next(line.split(":", 2)[2] for line in lines if line.startswith("0::"))


def processes_named(name: str, parent: int) -> list[int]:
    """Pids of the processes called `name` that `parent` started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or (entry / "comm").read_text().strip() != name:
                continue
            status = (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        if f"\nPPid:\t{parent}\n" in status:
            found.append(int(entry.name))
    return found


@pytest.fixture
def our_dockerd() -> int:
    sock = ENGINE_DIR / "docker.sock"
    if os.environ.get("DOCKER_HOST") != f"unix://{sock}":
        pytest.skip("a system engine is in use: it runs as its own service configures it")
    return int((ENGINE_DIR / "dockerd.pid").read_text())


@pytest.fixture
def container_with_a_loopback_port() -> Iterator[int]:
    started = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", "127.0.0.1::8080", IMAGE, "sleep", "60"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    name = started.stdout.strip()
    try:
        pid = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Pid}}", name],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        yield int(pid)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60, check=False)


def test_the_daemon_has_a_cpu_cgroup_apart_from_its_containers(
    our_dockerd: int, container_with_a_loopback_port: int
) -> None:
    engine = cpu_cgroup(our_dockerd)
    container = cpu_cgroup(container_with_a_loopback_port)
    assert engine != "/", (
        "dockerd runs in the root cgroup: each of its threads outweighs all containers"
    )
    assert not container.startswith(engine.rstrip("/") + "/"), (engine, container)
    containerd = processes_named("containerd", our_dockerd)
    assert containerd and all(cpu_cgroup(pid) == engine for pid in containerd)


def test_loopback_ports_are_forwarded_by_the_kernel(
    our_dockerd: int, container_with_a_loopback_port: int
) -> None:
    assert processes_named("docker-proxy", our_dockerd) == []
