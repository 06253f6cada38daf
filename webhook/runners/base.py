"""The stack interface the orchestrator drives, and the errors it understands.

A `StackRunner` opens a `StackSession` for one stack on one worktree. The production
implementation is `webhook.runners.automation` (Pulumi Automation API); the tests use
`tests.support.local_process`, which really starts the commit's app on a loopback port.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pulumi.automation import errors as auto_errors

OnOutput = Callable[[str], None]
"""Receives each output line of `up`/`preview` as it comes."""
OnEvent = Callable[[Any], None]
"""Receives the Automation API's engine events (`pulumi.automation.events.EngineEvent`)."""

# From the self-managed (DIY) backend's message:
#   "... currently locked by 1 lock(s) ... <path>: created by alice@box (pid 4242) at <time>"
_LOCK_HOLDER = re.compile(r"created by (?P<who>\S+@\S+) \(pid (?P<pid>\d+)\)")


class RunnerError(RuntimeError):
    """A stack operation failed; the message is what the engine reported."""


@dataclass
class StackLockedError(RunnerError):
    """Another update holds the stack (Pulumi's ConcurrentUpdateError)."""

    holder: str | None
    detail: str = ""

    def __str__(self) -> str:
        who = f"held by {self.holder}" if self.holder else "holder unknown"
        return f"the stack is locked by another update ({who})"


def lock_holder(text: str) -> str | None:
    """`user@host (pid N)` named in a lock conflict message, if any."""
    found = _LOCK_HOLDER.search(text)
    return f"{found['who']} (pid {found['pid']})" if found else None


@contextmanager
def mapped_automation_errors():
    """Turn Automation API errors into runner errors (lock conflicts become StackLockedError)."""
    try:
        yield
    except auto_errors.ConcurrentUpdateError as error:
        text = str(error)
        raise StackLockedError(lock_holder(text), text.strip()) from error
    except auto_errors.CommandError as error:
        raise RunnerError(f"{error.name}: {str(error).strip()}") from error


class StackSession(Protocol):
    """One selected (or created) stack whose program is the worktree at one commit."""

    def set_config(self, values: Mapping[str, str]) -> None: ...

    def up(self, message: str, on_output: OnOutput) -> dict[str, Any]:
        """Deploy; return the stack outputs as plain values."""
        ...

    def preview(
        self, message: str, on_output: OnOutput, on_event: OnEvent | None = None
    ) -> dict[str, int]:
        """Preview; return the change summary (operation -> count)."""
        ...

    def outputs(self) -> dict[str, Any]: ...

    def export_state(self) -> dict[str, Any]: ...

    def import_state(self, state: Mapping[str, Any]) -> None: ...

    def set_tag(self, key: str, value: str) -> bool:
        """Set a stack tag; False when the backend has no tags (self-managed backends)."""
        ...


class StackRunner(Protocol):
    def open(self, stack: str, work_dir: Path, binds_dir: Path | None = None) -> StackSession:
        """Select the stack, creating it if it does not exist, with `work_dir` as program.
        `binds_dir`: where the program keeps binds of checkout paths (project_binds.py)."""
        ...

    def backend_lock_dir(self, stack: str) -> Path | None:
        """Where a self-managed backend keeps this stack's lock files; None otherwise."""
        ...


def clear_pending_operations(state: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of an exported stack state without pending operations, and how many there were.

    This is the documented recovery for an interrupted update (export, drop
    `pending_operations`, import)."""
    deployment = dict(state.get("deployment") or {})
    pending = deployment.pop("pending_operations", None) or []
    return {**state, "deployment": deployment}, len(pending)
