"""Before a job or a recovery runs: are the commands it needs on the service's PATH?

Checked each time (a few `stat` calls), so installing a missing command needs no restart.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webhook.http.readiness import Problem, missing_commands, unwritable_binds_folder


def commands_for(runner: Any) -> tuple[str, ...]:
    """git for the mirror; the Pulumi CLI too when the runner is the Automation API's."""
    from webhook.runners.automation import AutomationRunner

    return ("git", "pulumi") if isinstance(runner, AutomationRunner) else ("git",)


def search_path_for(runner: Any) -> str | None:
    """The PATH the runner's commands are looked up in: its own env_vars' PATH, else ours."""
    env = getattr(runner, "env_vars", None) or {}
    return env.get("PATH") or os.environ.get("PATH")


@dataclass
class Preflight:
    commands: tuple[str, ...] = ()
    path: str | None = None
    which: Callable[..., str | None] = field(default=shutil.which, repr=False)
    # The stacks' binds folder (webhook/orchestrator/pipeline.py `binds_root`): a host folder
    # in the deploy service's container, which Docker creates owned by root.
    binds_folder: Path | None = None
    writable: Callable[[Path], bool] = field(
        default=lambda path: os.access(path, os.W_OK | os.X_OK), repr=False
    )

    @classmethod
    def for_runner(cls, runner: Any, binds_folder: Path | None = None) -> Preflight:
        return cls(commands_for(runner), search_path_for(runner), binds_folder=binds_folder)

    def problems(self) -> list[Problem]:
        problems = missing_commands(self.commands, self.path, self.which)
        folder = self.binds_folder
        if folder is not None and folder.is_dir() and not self.writable(folder):
            problems.append(unwritable_binds_folder(str(folder), os.geteuid()))
        return problems

    def blocker(self) -> Problem | None:
        """The first problem that keeps a job from running, if any."""
        return next((p for p in self.problems() if p.blocks_deploys), None)
