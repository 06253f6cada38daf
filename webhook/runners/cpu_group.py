"""The idle CPU group a deployment's processes run in (SLIPWAY_DEPLOY_CPU_IDLE).

A deployment's program, Pulumi CLI, providers, git and docker CLI run in a CPU cgroup marked
`cpu.idle`: the kernel gives them the CPU time the services leave over, and a service's
request that wakes up takes the core from them at once. A nice value cannot do that: it
orders processes within one cgroup, and the services run in their containers' cgroups
(docs/cutover.md, "Latency during a deploy").

The service prepares the group once (`deploy_group()`), inside the cgroup it runs in:
- cgroup v1: `<cpu hierarchy>/<own group>/slipway-deploy`;
- cgroup v2: `<own group>/slipway-deploy`. Below the root, a group with processes cannot
  hand controllers to child groups, so there the service first moves its own processes
  into `<own group>/slipway-service` (systemd's `Delegate=cpu` hands the unit that subtree).
A deploy worker thread runs inside `children_in(group)`, and every program it starts (the
stack child, git, the cutover's docker CLI) goes through `command()`: a shell joins the
group and execs the program, so it spends none of its CPU outside the group, and whatever
it starts (the Pulumi CLI, providers, docker-compose) inherits the group.
"""

from __future__ import annotations

import errno
import functools
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GROUP = "slipway-deploy"
SERVICE_LEAF = "slipway-service"
CGROUP_ROOT = Path("/sys/fs/cgroup")
LOWEST_WEIGHT = {"cpu.shares": "2", "cpu.weight": "1"}  # kernels before 5.15: no cpu.idle
FIX = (
    "run the service as root or under systemd with Delegate=cpu (deploy/slipway.service), "
    "or set SLIPWAY_DEPLOY_CPU_IDLE=false to deploy at SLIPWAY_DEPLOY_NICE only"
)

# Joins the group named by $1 ("0" is the writing process), then becomes the program. A
# failed join is not an error: the program runs where the service runs, at the worker's nice.
JOIN_THEN_EXEC = '{ echo 0 >"$1"; } 2>/dev/null; shift; exec "$@"'

logger = logging.getLogger("slipway.runner")
_children = threading.local()


class CpuGroupError(Exception):
    """The idle group cannot be made; the message names the cause and the fix."""


@dataclass(frozen=True)
class Hierarchy:
    """Where the cpu controller is mounted and the service's group in it."""

    mount: Path  # e.g. /sys/fs/cgroup/cpu,cpuacct (v1) or /sys/fs/cgroup (v2)
    own: str  # e.g. "/" or "/system.slice/slipway.service"
    unified: bool  # cgroup v2

    @property
    def own_dir(self) -> Path:
        return self.mount / self.own.lstrip("/")


def cpu_hierarchy(proc_cgroup: str, root: Path = CGROUP_ROOT) -> Hierarchy:
    """The cpu hierarchy of a process from its `/proc/<pid>/cgroup` text. A v1 `cpu` line
    wins over the v2 line of a hybrid host (there the unified tree has no cpu controller)."""
    entries = [line.split(":", 2) for line in proc_cgroup.splitlines() if line.count(":") >= 2]
    for _, controllers, path in entries:
        if "cpu" in controllers.split(","):
            return Hierarchy(root / controllers, path, unified=False)
    for hierarchy_id, controllers, path in entries:
        if hierarchy_id == "0" and not controllers and _has_cpu(root):
            return Hierarchy(root, path, unified=True)
    raise CpuGroupError(f"no cgroup with the cpu controller is mounted under {root}; {FIX}")


def _has_cpu(root: Path) -> bool:
    try:
        return "cpu" in (root / "cgroup.controllers").read_text().split()
    except OSError:
        return False


def _write(path: Path, text: str) -> None:
    with open(path, "w") as handle:  # cgroup files: one write, no temporary file
        handle.write(text)


def prepare(hierarchy: Hierarchy) -> Path:
    """Make (or reuse) the idle group beside the service; its directory."""
    group = hierarchy.own_dir / GROUP
    try:
        if hierarchy.unified:
            _hand_down_cpu(hierarchy)
        group.mkdir(exist_ok=True)
        _mark_idle(group)
    except OSError as error:
        message = f"cannot prepare the CPU group {group}: {error.strerror}; {FIX}"
        raise CpuGroupError(message) from error
    return group


def _hand_down_cpu(hierarchy: Hierarchy) -> None:
    """cgroup v2: let the service's group give the cpu controller to its children."""
    own = hierarchy.own_dir
    if "cpu" in (own / "cgroup.subtree_control").read_text().split():
        return
    try:
        _write(own / "cgroup.subtree_control", "+cpu")
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
        # "no internal processes" (below the real root, also the root of a cgroup
        # namespace): move the service's processes into a leaf, then retry
        leaf = own / SERVICE_LEAF
        leaf.mkdir(exist_ok=True)
        for pid in (own / "cgroup.procs").read_text().split():
            _write(leaf / "cgroup.procs", pid)
        _write(own / "cgroup.subtree_control", "+cpu")


def _mark_idle(group: Path) -> None:
    if (group / "cpu.idle").exists():
        _write(group / "cpu.idle", "1")
        return
    for name, lowest in LOWEST_WEIGHT.items():
        if (group / name).exists():
            _write(group / name, lowest)
            return
    raise CpuGroupError(f"{group} has neither cpu.idle nor a CPU weight file; {FIX}")


@functools.cache
def deploy_group() -> Path | None:
    """The service's idle group, prepared on first use; None (logged once) where it cannot
    be made: deployments then run at SLIPWAY_DEPLOY_NICE only."""
    try:
        hierarchy = cpu_hierarchy(Path("/proc/self/cgroup").read_text(), CGROUP_ROOT)
        group = prepare(hierarchy)
    except (CpuGroupError, OSError) as error:
        logger.warning("deployments run without an idle CPU group: %s", error)
        return None
    logger.info("deployments run in the idle CPU group %s", group)
    return group


@contextmanager
def children_in(group: Path | None) -> Iterator[None]:
    """Within the block, programs the calling thread starts through `command()` run in
    `group` (None: where the service runs). Thread-local, like the worker's nice value."""
    before = getattr(_children, "group", None)
    _children.group = group
    try:
        yield
    finally:
        _children.group = before


def command(argv: Sequence[str]) -> list[str]:
    """`argv` to start from the calling thread: wrapped in a shell that joins the thread's
    `children_in` group first, so a program spends none of its CPU outside it; else as is."""
    group = getattr(_children, "group", None)
    if group is None:
        return list(argv)
    return ["/bin/sh", "-c", JOIN_THEN_EXEC, "slipway-join", str(group / "cgroup.procs"), *argv]
