"""How a deployment yields the CPU to the services it deploys (SLIPWAY_DEPLOY_NICE).

Two Linux mechanisms, because one is not enough:

- a thread's **nice value**, which every process it starts inherits (the stack child, the
  Pulumi CLI and providers, git, the docker CLI): it orders the deployment against the
  service's own threads, and against every process of the same scheduling group;
- the **autogroup** of a session: with autogroup scheduling (`/proc/sys/kernel/
  sched_autogroup_enabled` = 1, the default of most distribution kernels), processes in the
  root CPU cgroup share the CPU first between sessions, each at its autogroup's nice value,
  and a process's own nice value counts only inside its session. The stack child therefore
  runs in a session of its own (AutomationRunner starts it so), whose autogroup gets the
  deploy nice value too.

Under systemd or in a container the unit's or the container's CPU weight decides instead
(docs/install.md, "CPU priority of deployments").
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger("slipway.orchestrator")

PROC = Path("/proc")


def lower_thread_priority(increment: int) -> None:
    """Lower the calling thread's CPU priority by `increment` (SLIPWAY_DEPLOY_NICE); every
    process the thread starts inherits it."""
    if increment <= 0:
        return
    try:
        thread = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + increment))
    except (AttributeError, OSError) as error:  # not Linux, or not allowed: run as is
        logger.warning("could not lower the deploy worker's CPU priority: %s", error)


def thread_nice() -> int:
    """The calling thread's nice value (0 where it cannot be read)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


def lower_session_priority(pid: int, nice: int, proc: Path = PROC) -> None:
    """Give the autogroup of session leader `pid` the nice value `nice` (> 0), where the
    kernel schedules by autogroup; nothing elsewhere."""
    if nice <= 0:
        return
    enabled = proc / "sys" / "kernel" / "sched_autogroup_enabled"
    try:
        if not enabled.is_file() or enabled.read_text().strip() != "1":
            return
        (proc / str(pid) / "autogroup").write_text(str(min(19, nice)))
    except OSError as error:  # the child already ended, or not allowed: it runs as is
        logger.warning("could not lower the CPU priority of deployment process %s: %s", pid, error)
