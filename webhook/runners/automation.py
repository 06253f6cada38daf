"""The production StackRunner: the Pulumi Automation API on the job's worktree.

The program runs with the service's own virtualenv (linked into the worktree as `.venv`):
a commit that changes requirements.txt needs the service's virtualenv updated first.

Thin on purpose: argument building and result conversion are plain functions that the
tests check without the Pulumi CLI; everything else is one Automation API call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pulumi import automation as auto

from webhook.runners.base import OnEvent, OnOutput, mapped_automation_errors


def up_arguments(message: str, on_output: OnOutput) -> dict[str, Any]:
    """Keyword arguments of `Stack.up`: a message naming the commit, plain output lines."""
    return {"message": message, "on_output": line_splitter(on_output), "color": "never"}


def line_splitter(on_output: OnOutput) -> OnOutput:
    """The CLI hands over chunks that may hold several lines; pass on one line at a time."""

    def forward(chunk: str) -> None:
        for line in chunk.splitlines():
            if line.strip():
                on_output(line.rstrip())

    return forward


def plain_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """`OutputMap` (name -> OutputValue) to name -> value; secrets stay in, never logged."""
    return {name: getattr(value, "value", value) for name, value in outputs.items()}


def file_backend_root(backend_url: str | None) -> Path | None:
    """The directory of a self-managed `file://` backend, else None."""
    if not backend_url or not backend_url.startswith("file://"):
        return None
    parts = urlsplit(backend_url)
    path = parts.path or ""
    if parts.netloc and parts.netloc != "~":
        path = f"/{parts.netloc}{path}"
    return Path(os.path.expanduser(path if parts.netloc != "~" else f"~{path}"))


def running_virtualenv() -> Path | None:
    """The virtualenv this service runs in (it has the program's requirements), if any."""
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None


def link_virtualenv(work_dir: Path, venv: Path | None, name: str = ".venv") -> bool:
    """Make `work_dir/<name>` (Pulumi.yaml: `virtualenv: .venv`) point at `venv`, so a fresh
    worktree does not build its own virtualenv on every deployment. True if linked."""
    target = work_dir / name
    if venv is None or target.exists() or target.is_symlink():
        return False
    target.symlink_to(venv, target_is_directory=True)
    return True


@dataclass
class AutomationSession:
    stack: auto.Stack
    supports_tags: bool

    def set_config(self, values: Mapping[str, str]) -> None:
        with mapped_automation_errors():
            self.stack.set_all_config({k: auto.ConfigValue(v) for k, v in values.items()})

    def up(self, message: str, on_output: OnOutput) -> dict[str, Any]:
        with mapped_automation_errors():
            result = self.stack.up(**up_arguments(message, on_output))
        return plain_outputs(result.outputs)

    def preview(
        self, message: str, on_output: OnOutput, on_event: OnEvent | None = None
    ) -> dict[str, int]:
        with mapped_automation_errors():
            result = self.stack.preview(**up_arguments(message, on_output), on_event=on_event)
        return {str(op): count for op, count in (result.change_summary or {}).items()}

    def outputs(self) -> dict[str, Any]:
        with mapped_automation_errors():
            return plain_outputs(self.stack.outputs())

    def export_state(self) -> dict[str, Any]:
        with mapped_automation_errors():
            exported = self.stack.export_stack()
        return {"version": exported.version, "deployment": dict(exported.deployment or {})}

    def import_state(self, state: Mapping[str, Any]) -> None:
        with mapped_automation_errors():
            self.stack.import_stack(auto.Deployment(state.get("version"), state.get("deployment")))

    def set_tag(self, key: str, value: str) -> bool:
        if not self.supports_tags:
            return False
        with mapped_automation_errors():
            self.stack.set_tag(key, value)
        return True


@dataclass
class AutomationRunner:
    """Opens stacks with `LocalWorkspace` on the worktree (the project's Pulumi.yaml)."""

    env_vars: Mapping[str, str] = field(default_factory=dict)
    project: str = "slipway"
    program_venv: Path | None = field(default_factory=running_virtualenv)

    @property
    def backend_url(self) -> str | None:
        return self.env_vars.get("PULUMI_BACKEND_URL") or os.environ.get("PULUMI_BACKEND_URL")

    def open(self, stack: str, work_dir: Path) -> AutomationSession:
        link_virtualenv(work_dir, self.program_venv)
        opts = auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=dict(self.env_vars))
        with mapped_automation_errors():
            selected = auto.create_or_select_stack(stack, work_dir=str(work_dir), opts=opts)
        return AutomationSession(selected, supports_tags=self.backend_lock_dir(stack) is None)

    def backend_lock_dir(self, stack: str) -> Path | None:
        """`<backend>/.pulumi/locks/organization/<project>/<stack>` on a file:// backend."""
        root = file_backend_root(self.backend_url)
        if root is None:
            return None
        name = stack.rsplit("/", 1)[-1]
        return root / ".pulumi" / "locks" / "organization" / self.project / name
