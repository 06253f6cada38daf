"""Docker Compose's answers handed from the deploy service to the program it runs.

The service renders a commit's stack before `up` (its fingerprint: `docker compose config`,
then `config --hash` and the Compose version, webhook/orchestrator/render_handoff.py) and
writes them to a file named by `SLIPWAY_COMPOSE_RENDER` in the program's environment. The
program (reader.py) uses them instead of running Compose again, only when the file is for
the same files, project and profiles and its key equals the key the program computes
itself over everything Compose would read (webhook/orchestrator/render_cache.py
`render_key`: the command, the environment, every file's content). Anything else (no
file, another format, a changed file, another environment, no key) runs Compose as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV = "SLIPWAY_COMPOSE_RENDER"
FORMAT = "slipway-compose-render/1"


@dataclass(frozen=True)
class Render:
    """`config --format json`, `config --hash '*'` and `version --short` of one stack."""

    model: dict[str, Any]
    hashes: dict[str, str]
    version: str


def describe(
    key: str, paths: Sequence[Path], project: str, profiles: Sequence[str], render: Render
) -> dict[str, Any]:
    """The file's content (JSON) for `render` of `paths` under `key`."""
    return {
        "format": FORMAT,
        "key": key,
        "files": [str(p) for p in paths],
        "project": project,
        "profiles": list(profiles),
        "model": render.model,
        "hashes": render.hashes,
        "version": render.version,
    }


def handed(paths: Sequence[Path], project: str, profiles: Sequence[str]) -> Render | None:
    """The render handed for exactly these inputs, else None (run Compose)."""
    location = os.environ.get(ENV)
    if not location:
        return None
    try:
        found = json.loads(Path(location).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    wanted = {"files": [str(p) for p in paths], "project": project, "profiles": list(profiles)}
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        return None
    if any(found.get(name) != value for name, value in wanted.items()):
        return None
    if found.get("key") is None or found.get("key") != own_key(paths, project, profiles):
        return None
    return Render(found["model"], found["hashes"], found["version"])


def own_key(paths: Sequence[Path], project: str, profiles: Sequence[str]) -> str | None:
    """The render key of these inputs in this process (its environment without `ENV`)."""
    try:  # the service's module: a program run outside it (`make up`) may lack it
        from components.compose.docker_compose import find_compose_command
        from webhook.orchestrator.render_cache import render_key

        command = find_compose_command()
    except Exception:  # no key: Compose runs and says what is wrong
        return None
    env = {k: v for k, v in os.environ.items() if k != ENV}
    return render_key(list(paths), project=project, profiles=profiles, env=env, command=command)
