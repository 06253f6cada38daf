"""What the deploy service's image is built from, hashed: the trigger and tag of its build.

The control stack builds the image with `docker.RemoteImage` and a `build` block, a resource
both our bridged provider and Pulumi's released one have (pulumi-docker's `docker.Image` is
only in the latter). That resource rebuilds only when an input changes, so the content the
build reads is hashed into `triggers` and into the tag: a change to `webhook/` builds a new
image and replaces the container, a change to `tests/` or `docs/` does not.

The content is what the repository's `.dockerignore` lets through. Slipway's file is an
allowlist (`*`, then `!path` lines, then exclusions such as `**/__pycache__`); a file of
another shape is refused rather than hashed wrongly.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from components.compose_stack.images import add_file


class ImageContextError(ValueError):
    """The build context cannot be hashed; the message names the fix."""


@dataclass(frozen=True)
class DockerIgnore:
    """An allowlist `.dockerignore`: the paths sent to the engine, minus the exclusions."""

    included: tuple[str, ...]  # `!webhook/` → "webhook"
    excluded: tuple[str, ...]  # `**/__pycache__`, `**/*.pyc`, ...

    def sends(self, relative: str) -> bool:
        """Whether the file at `relative` (posix, under the context) reaches the build."""
        path = PurePosixPath(relative)
        if not any(relative == inc or relative.startswith(inc + "/") for inc in self.included):
            return False
        for pattern in self.excluded:
            tail = pattern.removeprefix("**/")
            # `**/x` matches x as any path component; other patterns match the whole path.
            candidates = [p for p in (path, *path.parents) if str(p) != "."]
            if pattern.startswith("**/"):
                if any(fnmatch.fnmatchcase(p.name, tail) for p in candidates):
                    return False
            elif fnmatch.fnmatchcase(relative, pattern):
                return False
        return True


def parse_dockerignore(text: str, where: str = ".dockerignore") -> DockerIgnore:
    """The allowlist in `text`; ImageContextError for any other shape."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or lines[0] != "*":
        raise ImageContextError(
            f"{where} must start with `*` and list what the image needs as `!path` lines "
            "(an allowlist), so that no secret on disk reaches the build; see the repository's "
            ".dockerignore"
        )
    included, excluded = [], []
    for line in lines[1:]:
        if line.startswith("!"):
            included.append(line[1:].strip("/"))
        elif line == "*":
            raise ImageContextError(f"{where}: `*` may only be the first line")
        else:
            excluded.append(line)
    return DockerIgnore(tuple(included), tuple(excluded))


def context_digest(
    context: Path, dockerfile: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> str:
    """SHA-256 over the Dockerfile, the build arguments and every file the build is sent."""
    try:
        ignore = parse_dockerignore(
            (context / ".dockerignore").read_text(), str(context / ".dockerignore")
        )
        dockerfile_bytes = (context / dockerfile).read_bytes()
    except OSError as error:
        raise ImageContextError(
            f"cannot read {error.filename} ({error.strerror}): slipway:service builds the image "
            "from the repository's Dockerfile and .dockerignore; run `pulumi up -s control` "
            "from the repository's root"
        ) from None
    digest = hashlib.sha256(b"dockerfile\0" + dockerfile_bytes + b"\0")
    for name, value in sorted((build_args or {}).items()):
        digest.update(f"arg\0{name}\0{value}\0".encode())
    for relative in sorted(_files(context, ignore)):
        add_file(digest, context, relative)
    return digest.hexdigest()


def _files(context: Path, ignore: DockerIgnore) -> list[str]:
    """Posix paths (under `context`) of the files the build is sent."""
    found = []
    for included in ignore.included:
        top = context / included
        if top.is_file() or top.is_symlink():
            found.append(included)
            continue
        for root, dirs, files in os.walk(top):
            dirs.sort()
            found += [Path(root, name).relative_to(context).as_posix() for name in files]
    return [relative for relative in found if ignore.sends(relative)]
