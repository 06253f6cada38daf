"""The fingerprint of a commit's rendered stack: equal fingerprints declare the same stack.

It is what `up` would be given, without running Pulumi: Docker Compose's own resolved model
(`docker compose config`, interpolated with the environment the program gets, reused while
what Compose reads is unchanged: webhook/orchestrator/render_cache.py), the content of
every checkout path that model names (build contexts, Dockerfiles, bind sources, config
and secret files), the program (`Pulumi.yaml`, `__main__.py`, `components/`, the
requirements), the stack config file, and the versions of what turns them into resources
(the Pulumi CLI, the Python SDKs and providers, Docker Compose, the service's runner code).
A commit that changes only docs, tests or a service not deployed here has the same
fingerprint as its parent. Used by `unchanged.py` to skip `up` (docs/performance.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from components.compose.docker_compose import compose_config, find_compose_command
from components.config import expand_variables
from webhook.orchestrator.render_cache import cached_model

FORMAT = "slipway-fingerprint/1"  # change it when what is hashed changes
PROGRAM_PATHS = (
    "Pulumi.yaml",
    "__main__.py",
    "components",
    "requirements.txt",
    "requirements.lock",
)
SDK_PACKAGES = ("pulumi", "pulumi-docker", "pulumi-github")
RUNNER_CODE = Path(__file__).resolve().parents[1] / "runners"
_IGNORED = {".git", "__pycache__", ".slipway-release"}
_TIMEOUT = 30


class FingerprintError(RuntimeError):
    """The stack could not be rendered without Pulumi; the full `up` decides instead."""


@dataclass(frozen=True)
class StackFiles:
    """What the stack config says the program will deploy (`slipway:*` keys it needs)."""

    compose_files: tuple[str, ...]
    project: str
    profiles: tuple[str, ...]
    role: str
    docker_host: str | None
    config_text: str


@dataclass(frozen=True)
class Rendered:
    """`docker compose config` of `paths` (project, profiles) in the environment `env`."""

    paths: tuple[Path, ...]
    project: str
    profiles: tuple[str, ...]
    env: Mapping[str, str]
    model: dict[str, Any]


@dataclass(frozen=True)
class Fingerprint:
    """`digest` over `parts` (name → hash), and the Compose project it deploys."""

    digest: str
    project: str
    docker_host: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    # What Compose rendered, for the program (render_handoff.py); not part of the digest.
    render: Rendered | None = field(default=None, compare=False, repr=False)

    def differences(self, other: Mapping[str, str]) -> list[str]:
        """Names of the parts whose hashes differ from `other` (a stored `parts`)."""
        names = sorted(set(self.parts) | set(other))
        return [n for n in names if self.parts.get(n) != other.get(n)]


def stack_files(tree: Path, stack: str, env: Mapping[str, str] | None = None) -> StackFiles:
    """Read `Pulumi.<stack>.yaml` of the checkout (the stack's config, file backend); its
    `composeProject` with `${NAME:-default}` taken from `env` (the program's environment,
    else this process's), as the program does (components/config.py)."""
    name = stack.rsplit("/", 1)[-1]
    path = tree / f"Pulumi.{name}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FingerprintError(f"no stack config {path.name} in the commit ({error})") from error
    config = (yaml.safe_load(text) or {}).get("config") or {}
    files = config.get("slipway:composeFiles") or []
    profiles = config.get("slipway:profiles") or []
    if not isinstance(files, list) or not isinstance(profiles, list):
        raise FingerprintError(f"{path.name}: composeFiles and profiles are not lists")
    return StackFiles(
        compose_files=tuple(str(f) for f in files),
        project=expand_variables(
            str(config.get("slipway:composeProject") or f"slipway-{name}"),
            os.environ if env is None else env,
        ),
        profiles=tuple(str(p) for p in profiles),
        role=str(config.get("slipway:role") or "app"),
        docker_host=str(config["slipway:dockerHost"]) if config.get("slipway:dockerHost") else None,
        config_text=text,
    )


def fingerprint(tree: Path, stack: str, env: Mapping[str, str]) -> Fingerprint:
    """The fingerprint of the checkout `tree` deployed as `stack`, with the program's
    environment `env`. Raises FingerprintError when it cannot be known."""
    tree = tree.resolve()
    files = stack_files(tree, stack, env)
    if files.role != "app" or not files.compose_files:
        raise FingerprintError(f"role {files.role} without Compose files: always a full up")
    paths = [tree / f for f in files.compose_files]
    try:
        model = cached_model(
            paths, project=files.project, profiles=files.profiles, env=env,
            command=find_compose_command(),
            render=lambda: compose_config(
                paths, project_name=files.project, profiles=files.profiles, env=env,
                timeout=_TIMEOUT,
            ),
        )  # fmt: skip
    except Exception as error:  # rejected files: the full `up` reports them properly
        raise FingerprintError(f"docker compose config failed: {error}") from error
    parts = {
        "format": FORMAT,
        "stack config": _text_hash(files.config_text),
        "compose model": _text_hash(json.dumps(model, sort_keys=True)),
        "program": _paths_hash(tree, [tree / p for p in PROGRAM_PATHS]),
        "files the model names": _paths_hash(tree, model_paths(model, tree)),
        "versions": _text_hash(json.dumps(tool_versions(), sort_keys=True)),
    }
    digest = _text_hash(json.dumps(parts, sort_keys=True))
    rendered = Rendered(tuple(paths), files.project, files.profiles, dict(env), model)
    return Fingerprint(digest, files.project, files.docker_host, parts, rendered)


def model_paths(model: Mapping[str, Any], tree: Path) -> list[Path]:
    """Absolute paths inside `tree` that the resolved Compose model names."""
    found: list[str] = []
    for service in (model.get("services") or {}).values():
        build = service.get("build") or {}
        if isinstance(build, dict) and build.get("context"):
            context = Path(build["context"])
            found.append(str(context))
            if build.get("dockerfile"):
                found.append(str(context / build["dockerfile"]))
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("type") == "bind":
                found.append(str(volume.get("source", "")))
        found.extend(str(f) for f in service.get("env_file") or [] if isinstance(f, str))
    for kind in ("configs", "secrets"):
        for item in (model.get(kind) or {}).values():
            if isinstance(item, dict) and item.get("file"):
                found.append(str(item["file"]))
    inside = {
        Path(p) for p in found if p and Path(p).is_absolute() and Path(p).is_relative_to(tree)
    }
    return sorted(inside)


@functools.cache
def tool_versions() -> dict[str, str]:
    """Versions of what turns the program into resources (once per service process)."""
    versions = {}
    for package in SDK_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    versions["pulumi cli"] = _output(["pulumi", "version"])
    versions["docker compose"] = _output([*find_compose_command(), "version", "--short"])
    versions["runner code"] = _paths_hash(RUNNER_CODE, [RUNNER_CODE])
    return versions


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"unknown ({error})"
    return done.stdout.strip() if done.returncode == 0 else f"unknown (exit {done.returncode})"


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _paths_hash(base: Path, paths: Iterable[Path]) -> str:
    """SHA-256 over relative path, mode and content of each file under `paths` (a missing
    path counts as missing: its appearing changes the hash)."""
    digest = hashlib.sha256()
    for path in paths:
        for file in _files(path):
            relative = file.relative_to(base).as_posix() if file.is_relative_to(base) else str(file)
            if not file.exists() and not file.is_symlink():
                digest.update(f"{relative}\0missing\0".encode())
                continue
            mode = file.lstat().st_mode & 0o777
            digest.update(f"{relative}\0{mode:o}\0".encode())
            digest.update(os.readlink(file).encode() if file.is_symlink() else file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _files(path: Path) -> list[Path]:
    if not path.is_dir() or path.is_symlink():
        return [path]
    out = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED)
        out.extend(Path(root, n) for n in sorted(names) if n not in _IGNORED)
    return out
