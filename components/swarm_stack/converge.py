"""Wait until a Swarm service has converged on what was declared, with a deadline.

The docker provider's own converge wait refuses global services and cannot tell a
service Swarm rolled back by itself from one that updated, so `up` waits here instead:
converged means no update in progress, every task Swarm wants running is running (a task
with a healthcheck runs only once healthy) and runs the declared image. Swarm's own
rollback or a paused update fails at once, naming the service and Swarm's reason, and so
does an update that waits for a task on a node that is down (Swarm would wait for ever).
`verdict` and `stalled` are pure; `wait_converged` asks the manager through the docker CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEADLINE_SECONDS = 180.0  # per service and `up`: a deployment never waits longer
_POLL_SECONDS = 1.0
_TIMEOUT = 30
# UpdateStatus.State → what it means (webhook/orchestrator/up_failure.py reads it too)
FAILED_STATES = {
    "paused": "Swarm paused its update",
    "rollback_paused": "Swarm paused its rollback",
    "rollback_completed": "Swarm rolled it back",
}


class ConvergeError(Exception):
    """A service did not converge; the message names it and says why."""


@dataclass(frozen=True)
class Verdict:
    done: bool
    failed: bool
    detail: str


def verdict(
    name: str, image: str, service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]
) -> Verdict:
    """Whether `service` (docker service inspect) with `tasks` (docker inspect of its tasks)
    runs `image` everywhere Swarm wants it to run."""
    status = service.get("UpdateStatus") or {}
    state = status.get("State") or ""
    if state in FAILED_STATES:
        why = status.get("Message") or "no reason given"
        # Once the rollback ends, Swarm's message is only "rollback completed": say the task's.
        why += _first_failure(image, tasks)
        return Verdict(False, True, f"service {name}: {FAILED_STATES[state]} ({why})")
    wanted = [t for t in tasks if t.get("DesiredState") == "running"]
    running = [t for t in wanted if (t.get("Status") or {}).get("State") == "running"]
    current = [t for t in running if _task_image(t) == _plain(image)]
    mode = (service.get("Spec") or {}).get("Mode") or {}
    replicas = (mode.get("Replicated") or {}).get("Replicas")
    expected = replicas if replicas is not None else max(len(wanted), 1)
    detail = f"service {name}: {len(current)}/{expected} tasks running {image}"
    if state == "updating":
        return Verdict(False, False, f"{detail}, update in progress")
    if state == "rollback_started":  # fails once Swarm's rollback ends: the next `up` is clean
        return Verdict(False, False, f"{detail}, Swarm is rolling it back")
    if len(current) >= expected and len(current) == len(wanted):
        return Verdict(True, False, detail)
    errors = [(t.get("Status") or {}).get("Err") for t in tasks]
    last = next((e for e in reversed(errors) if e), None)
    return Verdict(False, False, f"{detail}" + (f"; a task failed: {last}" if last else ""))


_ENDED = {"complete", "shutdown", "failed", "rejected", "orphaned", "remove"}


def stalled(
    name: str, service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]],
    down: Mapping[str, str],
) -> str | None:  # fmt: skip
    """Why the update of `service` can never end: it made a task on a node that is now down
    (`down`: node id → hostname), and Swarm's updater waits for that task to run, which it
    never does until the node returns. None when it is not stalled."""
    status = service.get("UpdateStatus") or {}
    if status.get("State") not in ("updating", "rollback_started"):
        return None
    started = str(status.get("StartedAt") or "")[:19]  # to the second: RFC 3339, UTC
    for task in tasks:
        node = task.get("NodeID")
        state = (task.get("Status") or {}).get("State")
        made_by_update = str(task.get("CreatedAt") or "")[:19] >= started
        if node in down and made_by_update and state not in _ENDED:
            return (
                f"service {name}: its update waits for task {str(task.get('ID'))[:12]} "
                f"on node {down[node]}, which is down (its engine stopped or is "
                "unreachable); Swarm would wait until the node returns"
            )
    return None


def _first_failure(image: str, tasks: Sequence[Mapping[str, Any]]) -> str:
    """The error of the release's first failed task (the one that made Swarm roll back),
    then any other errors its later tasks met while Swarm replaced and rolled them back."""
    failed = [t for t in tasks if _task_image(t) == _plain(image) and _error(t)]
    if not failed:
        return ""
    failed.sort(key=lambda t: str((t.get("Status") or {}).get("Timestamp") or ""))
    first = _error(failed[0])
    later = sorted({_error(t) for t in failed[1:]} - {first})
    return f"; a task of {image} failed: {first}" + (
        f" (later tasks: {'; '.join(later)})" if later else ""
    )


def _error(task: Mapping[str, Any]) -> str:
    return str((task.get("Status") or {}).get("Err") or "")


def _plain(image: str) -> str:
    return image.split("@", 1)[0]


def _task_image(task: Mapping[str, Any]) -> str:
    spec = (task.get("Spec") or {}).get("ContainerSpec") or {}
    return _plain(str(spec.get("Image", "")))


def wait_converged(
    name: str, image: str, docker_host: str | None, deadline: float = DEADLINE_SECONDS
) -> str:
    """Poll the manager until `name` converged on `image`; the final detail, or ConvergeError."""
    env = {**os.environ, **({"DOCKER_HOST": docker_host} if docker_host else {})}
    end = time.monotonic() + deadline
    seen = Verdict(False, False, f"service {name}: not inspected yet")
    last = ""
    while time.monotonic() < end:
        service = _inspect(["service", "inspect", name], env)
        if service:
            ids = _docker(["service", "ps", "-q", "--no-trunc", name], env).split()
            tasks = _inspect(["inspect", *ids], env, many=True) if ids else []
            seen = verdict(name, image, service[0], tasks)
            down = _down_nodes(env)
            last = state_summary(service[0], tasks, down)
            stuck = stalled(name, service[0], tasks, down) if not seen.done else None
            if stuck:
                raise ConvergeError(stuck)
            if seen.failed:
                raise ConvergeError(seen.detail)
            if seen.done:
                return seen.detail
        time.sleep(_POLL_SECONDS)
    raise ConvergeError(f"{seen.detail}: not converged within {deadline:.0f} s ({last})")


def state_summary(
    service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]], down: Mapping[str, str]
) -> str:
    """What a service waited on, for the deadline's message: the update's state and each
    task's desired → current state, image and node (down nodes named)."""
    state = (service.get("UpdateStatus") or {}).get("State") or "none"
    parts = []
    for task in tasks[-6:]:
        node = str(task.get("NodeID") or "?")
        where = f"{down[node]} (down)" if node in down else node[:12]
        current = (task.get("Status") or {}).get("State")
        parts.append(f"{task.get('DesiredState')}→{current} {_task_image(task)} on {where}")
    return f"update {state}; tasks: " + ("; ".join(parts) or "none")


def _down_nodes(env: Mapping[str, str]) -> dict[str, str]:
    """Nodes the manager sees down: id → hostname."""
    listed = _docker(["node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}}"], env)
    rows = [line.split() for line in listed.splitlines()]
    return {row[0]: row[1] for row in rows if len(row) == 3 and row[2] == "Down"}


def _docker(args: list[str], env: Mapping[str, str]) -> str:
    try:
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=_TIMEOUT, env=dict(env),
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _inspect(args: list[str], env: Mapping[str, str], many: bool = False) -> list[dict]:
    text = _docker(args, env).strip()
    try:
        found = json.loads(text) if text else []
    except ValueError:
        return []
    return found if isinstance(found, list) else []
