"""Rebase relative paths of a service copied from another file (pure).

Compose resolves relative paths in an extended file against that file's directory; once
the definition is copied into the migrated file they resolve against the project
directory, so they are rewritten to point at the same place.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath

_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|github\.com/)", re.IGNORECASE)


def rebase(path: str, from_dir: PurePath, to_dir: PurePath) -> str:
    """`path` (relative to `from_dir`) rewritten relative to `to_dir`; absolute paths,
    `~` paths, URLs and paths that start with a variable are returned unchanged."""
    if from_dir == to_dir or not path or path.startswith(("/", "~", "$")) or _URL.match(path):
        return path
    target = os.path.normpath(os.path.join(from_dir, path))
    new = os.path.relpath(target, to_dir)
    if new == ".":
        return "."
    return new if new.startswith("..") else f"./{new}"


def split_volume(spec: str) -> list[str]:
    """Split a short volume spec on `:` outside `${...}` (defaults may contain `:`)."""
    parts, depth, current = [], 0, []
    for i, ch in enumerate(spec):
        if ch == "{" and i and spec[i - 1] == "$":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        if ch == ":" and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _is_bind_source(source: str) -> bool:
    return source.startswith((".", "/", "~", "$"))


def rebase_volume(spec: str, from_dir: PurePath, to_dir: PurePath) -> str:
    """A short-syntax volume with its bind source rebased (named volumes unchanged)."""
    parts = split_volume(spec)
    if len(parts) < 2 or not _is_bind_source(parts[0]):
        return spec
    parts[0] = rebase(parts[0], from_dir, to_dir)
    return ":".join(parts)
