"""Hands what Docker Compose rendered for a deployment's fingerprint to the program's `up`,
so that Compose runs once per deployment, not once in the service and again in the program
(docs/full-up.md).

The file (components/compose_stack/handed_render.py's format) holds the model of the
fingerprint, Compose's service hashes (`config --hash '*'`, kept in render_cache.py like
the model) and its version, under the render key of the program's inputs: the program
uses them only when it computes the same key (same files, content, environment, command).
A rollback to a commit rendered before needs no Compose run at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from components.atomic_write import write_atomically
from components.compose.docker_compose import find_compose_command, service_hashes
from components.compose_stack.handed_render import ENV, Render, describe
from webhook.orchestrator.fingerprint import Fingerprint, tool_versions
from webhook.orchestrator.render_cache import cached_under, render_key

_TIMEOUT = 30


@contextmanager
def handed_env(found: Fingerprint | None, tree: Path, folder: Path) -> Iterator[dict[str, str]]:
    """The environment that hands the render of `found` to the program, while in the block
    ({} when there is nothing safe to hand, or writing it failed); the file is removed
    after."""
    try:
        env = hand_off(found, tree, folder)
    except Exception:  # only a saving: the program runs Compose itself
        env = {}
    try:
        yield env
    finally:
        if env:
            Path(env[ENV]).unlink(missing_ok=True)


def hand_off(found: Fingerprint | None, tree: Path, folder: Path) -> dict[str, str]:
    """Write the render of `found` (checkout `tree`) to a file in `folder`; the environment
    the program needs to find it ({} when there is nothing safe to hand)."""
    rendered = found.render if found is not None else None
    if rendered is None or not _same_dotenv(Path.cwd(), tree):
        return {}
    command = find_compose_command()
    version = tool_versions().get("docker compose", "")
    key = render_key(
        list(rendered.paths), project=rendered.project, profiles=rendered.profiles,
        env=rendered.env, command=command, cwd=tree,
    )  # fmt: skip
    if key is None or not version or version.startswith("unknown"):
        return {}
    hashes = cached_under(
        f"{key} hashes",
        lambda: service_hashes(
            rendered.paths,
            project_name=rendered.project,
            profiles=rendered.profiles,
            env=rendered.env,
            timeout=_TIMEOUT,
        ),
    )
    render = Render(rendered.model, hashes, version)
    text = json.dumps(describe(key, rendered.paths, rendered.project, rendered.profiles, render))
    path = folder / f"compose-render-{uuid.uuid4().hex}.json"  # one per deployment
    write_atomically(path, text)
    return {ENV: str(path)}


def _same_dotenv(here: Path, tree: Path) -> bool:
    """Whether the working folders' `.env` files (the service's, the program's) are alike:
    the fingerprint's Compose ran in the service's folder, the program's runs in `tree`."""
    return _read(here / ".env") == _read(tree / ".env")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
