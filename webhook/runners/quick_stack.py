"""Open a stack without the two CLI runs the Automation API makes before every operation.

`auto.create_or_select_stack` first runs `pulumi version` (the SDK checks the CLI's
version) and then `pulumi stack select` (and `pulumi stack init` when the stack is new);
each is a CLI start and, for `select`, a read of the backend: 0.5-1.5 s before the
operation itself starts (docs/full-up.md). Neither is needed:
- the version is read once per CLI binary and kept in a small cache file, keyed by the
  binary's path, size and modification time (`cached_pulumi_command`);
- every operation passes `--stack NAME` to the CLI, so selecting is not needed; a stack
  that does not exist yet makes the operation fail at once with "no stack named ... found",
  before any program runs, and `with_stack_created` creates it and runs the operation again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pulumi import automation as auto
from pulumi.automation._cmd import PulumiCommand
from pulumi.automation._stack import StackInitMode

T = TypeVar("T")


def version_cache_file() -> Path:
    """Where CLI versions are kept: a file in `$PULUMI_HOME` (the toolchain's own), else in
    ~/.cache/slipway. Deleting it is always safe (the CLI is asked again)."""
    home = os.environ.get("PULUMI_HOME")
    base = Path(home) if home else Path.home() / ".cache" / "slipway"
    return base / "slipway-cli-versions.json"


def binary_key(binary: str) -> str | None:
    """`path:size:mtime_ns` of the CLI binary that `binary` names, None when not found."""
    found = shutil.which(binary)
    if not found:
        return None
    real = os.path.realpath(found)
    stat = os.stat(real)
    return f"{real}:{stat.st_size}:{stat.st_mtime_ns}"


def cli_version(binary: str = "pulumi", cache: Path | None = None) -> str:
    """The version `binary version` prints (without `v`), from the cache when the same binary
    said it before; the cache is best effort (unreadable or unwritable: run the CLI)."""
    cache = cache or version_cache_file()
    key = binary_key(binary)
    try:
        known = json.loads(cache.read_text()) if key else {}
    except (OSError, ValueError):
        known = {}
    if key and isinstance(known, dict) and isinstance(known.get(key), str):
        return known[key]
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    said = subprocess.check_output([binary, "version"], env=env, timeout=120).decode().strip()
    version = said.removeprefix("v")
    if key:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({**known, key: version}))
            partial.replace(cache)
        except OSError:
            pass
    return version


class CachedPulumiCommand(PulumiCommand):
    """The SDK's `PulumiCommand` with its version from `cli_version` (no `pulumi version`
    run when the same binary answered before). The SDK's minimum-version check still runs."""

    def __init__(self, binary: str = "pulumi") -> None:  # no super().__init__: it runs the CLI
        from pulumi.automation._cmd import _MINIMUM_VERSION, _parse_and_validate_pulumi_version
        from pulumi.automation._env import _SKIP_VERSION_CHECK_VAR

        self.command = binary
        self.version = _parse_and_validate_pulumi_version(
            min_version=_MINIMUM_VERSION,
            current_version=cli_version(binary),
            opt_out=os.getenv(_SKIP_VERSION_CHECK_VAR) is not None,
        )


class UnselectedStack(auto.Stack):
    """A stack of `workspace` used by name (`--stack NAME`), not selected first."""

    def __init__(self, name: str, workspace: auto.Workspace) -> None:  # no super(): it selects
        self.name = name
        self.workspace = workspace
        self._mode = StackInitMode.SELECT


def open_unselected(
    stack: str, work_dir: Path, project: str, program: auto.PulumiFn
) -> UnselectedStack:
    """The stack `stack` of the project in `work_dir` (its Pulumi.yaml, else a default
    project named `project`) with `program` inline; no CLI runs."""
    settings = None
    if not any((work_dir / f"Pulumi{ext}").exists() for ext in (".yaml", ".yml", ".json")):
        settings = auto.ProjectSettings(name=project, runtime="python", main=os.getcwd())
    workspace = auto.LocalWorkspace(
        work_dir=str(work_dir),
        program=program,
        project_settings=settings,
        pulumi_command=CachedPulumiCommand(),
    )
    return UnselectedStack(stack, workspace)


def with_stack_created(stack: auto.Stack, operation: Callable[[], T]) -> T:
    """`operation()`; when the stack does not exist yet, create it and run it once more."""
    try:
        return operation()
    except auto.StackNotFoundError as missing:
        try:
            stack.workspace.create_stack(stack.name)
        except auto.StackAlreadyExistsError:
            raise missing from None  # another stack was missing (a StackReference's)
    return operation()
