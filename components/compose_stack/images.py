"""How a Compose `build:` becomes a `docker.RemoteImage` with a `build` block.

The docker provider is kreuzwerker's Terraform provider bridged to Pulumi; it builds on the
Docker host through the engine's API. It rebuilds only when an input changes, so the
context's content is hashed into `triggers` and into the tag: a commit that changes a file
of the context gets a new image, a commit that does not keeps the one it has (and a
rollback finds its image still tagged).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from components.compose_stack.routes import RELEASE_FILE

# Files that never reach an image but change on every checkout or editor save.
_IGNORED_DIRS = {".git", "__pycache__", ".venv", "node_modules"}
# In a git worktree `.git` is a file naming the worktree; Slipway writes the release name
# into the checkout before each `up`. Neither may make a context look changed.
_IGNORED_FILES = {".git", RELEASE_FILE}


def context_digest(context: Path, dockerfile: Path | None = None) -> str:
    """SHA-256 over the relative path, mode and content of every file under `context`, and
    over `dockerfile` when it lies outside the context (Compose and the provider allow
    `dockerfile: ../Dockerfile.app`; the image must be rebuilt when only it changes)."""
    if not context.is_dir():
        raise FileNotFoundError(
            f"build context {context} is not a directory: fix `build.context` in the Compose file"
        )
    digest = hashlib.sha256()
    if dockerfile is not None and not dockerfile.resolve().is_relative_to(context.resolve()):
        try:
            digest.update(b"dockerfile\0" + dockerfile.read_bytes() + b"\0")
        except OSError as error:
            raise FileNotFoundError(
                f"the Dockerfile {dockerfile} cannot be read ({error.strerror}): fix "
                "`build.dockerfile` in the Compose file"
            ) from error
    for root, dirs, files in os.walk(context):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        for name in sorted(f for f in files if f not in _IGNORED_FILES):
            add_file(digest, context, Path(root, name).relative_to(context).as_posix())
    return digest.hexdigest()


def add_file(digest: Any, context: Path, relative: str) -> None:
    """Hash one file of a build context: its posix path, mode and content (a link's target)."""
    path = context / relative
    mode = path.lstat().st_mode & 0o777
    digest.update(f"{relative}\0{mode:o}\0".encode())
    digest.update(os.readlink(path).encode() if path.is_symlink() else path.read_bytes())


def builds_elsewhere(docker_host: str | None) -> bool:
    """Whether buildx would build on another engine than `docker_host` (the provider's).

    The provider's buildx builds on the Docker CLI's engine of the machine running Pulumi
    ($DOCKER_HOST, else the local socket), not on the provider's host; a stack whose engine
    is another one (a VPS over ssh, another socket) must take the legacy builder.
    """
    if docker_host is None:
        return False
    return docker_host != os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def build_arguments(build: Mapping[str, Any], *, legacy: bool = False) -> dict[str, Any]:
    """`RemoteImageBuildArgs` keywords from the plan's build settings (`ImagePlan.build`).

    By default the provider builds with buildx (BuildKit, as `docker compose build` does:
    `RUN --mount`, heredocs). `legacy`: the classic builder, through the provider's own
    client on the engine of `slipway:dockerHost`; for engines buildx would not build on
    (`builds_elsewhere`, tests/deploy_service/test_remote_build.py). It reads the Dockerfile
    from the working directory (as `docker build -f` does), so it gets the context's path.
    """
    context = str(build["context"])
    args: dict[str, Any] = {"context": context}
    if legacy:
        args["dockerfile"] = str(build.get("dockerfile") or PurePath(context, "Dockerfile"))
        args["use_legacy_builder"] = True
    elif build.get("dockerfile"):
        dockerfile = Path(build["dockerfile"])
        # buildx gets the context as a tarball: the Dockerfile is named inside it.
        args["dockerfile"] = (
            os.path.relpath(dockerfile, context) if dockerfile.is_absolute() else str(dockerfile)
        )
    renamed = {
        "target": "target",
        "network": "network_mode",
        "args": "build_args",
        "platform": "platform",
        # Each builder reads its own key; the other one sets nothing on the image.
        "labels": "labels" if legacy else "label",
        "no_cache": "no_cache",
    }
    for ours, theirs in renamed.items():
        if build.get(ours):
            args[theirs] = build[ours]
    if build.get("add_hosts"):
        # The build block takes `host:ip` strings (Docker splits at the first colon).
        args["extra_hosts"] = [f"{h['host']}:{h['ip']}" for h in build["add_hosts"]]
    if build.get("cache_from"):
        args["cache_froms"] = list(build["cache_from"].get("images", []))
    return args


def tagged_name(name: str, digest: str) -> str:
    """`name:ctx-<12 hex>`: one tag per build context content (replaces the name's own tag)."""
    repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    return f"{repository}:ctx-{digest[:12]}"
