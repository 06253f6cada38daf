"""Binds of paths in the checkout, under the deploy service: kept in the stack's binds folder.

`docker compose up` binds `./data` of a project folder that stays on the server. The deploy
service checks each commit out into a worktree and removes it after the job, so a bind into
it would lose what the container wrote there (and a restart would find an empty folder).
With SLIPWAY_BINDS_DIR set (the service sets it per stack), every bind of a checkout path
points at the same relative path in that folder instead, and at each `up` the commit's
files at that path are copied in: files of the repository follow the commit, files the
containers wrote stay. Nothing there is ever deleted (docs/compose-support.md, "Binds of
the project folder under the deploy service").
"""

from __future__ import annotations

import filecmp
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from components.atomic_write import copy_atomically, link_atomically, make_writable_command
from components.compose_stack.plan import ProjectCopy

BINDS_DIR_ENV = "SLIPWAY_BINDS_DIR"
SKIPPED = frozenset({".git"})  # a worktree's link to its repository, never a project file


class ProjectBindsError(RuntimeError):
    """A commit's files cannot be copied into the binds folder; the message says why."""


def kept_path(source: str, checkout: str, binds_dir: str) -> str:
    """Where a bind of `source` (a path in `checkout`) is kept: the same relative path in
    `binds_dir`."""
    relative = PurePosixPath(source).relative_to(PurePosixPath(checkout))
    return str(PurePosixPath(binds_dir) / relative)


def copy_commit_files(copies: Sequence[ProjectCopy]) -> list[str]:
    """Copy each checkout path's files to its kept path (files that differ only); return
    one line per path for the deployment log. A path the commit does not have is left to
    Docker, which creates a missing bind source as a folder (as for Compose)."""
    lines = []
    for copy in {c.kept: c for c in copies}.values():
        source, kept = Path(copy.checkout), Path(copy.kept)
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            if not source.exists() and not source.is_symlink():
                continue
            # A symlink stays one (`./data -> /mnt/data` binds /mnt/data, as in Compose): its
            # target is never walked and copied.
            folder = source.is_dir() and not source.is_symlink()
            changed = _copy_tree(source, kept) if folder else _copy_file(source, kept)
        except PermissionError as error:
            raise ProjectBindsError(
                f"{error}. Make the binds folder writable by the user the deploy service runs "
                f"as: on the Docker host, {make_writable_command(kept.parent, os.getuid())}, "
                "then deploy again"
            ) from error
        lines.append(f"binds: {kept}: {changed} file(s) from the commit updated")
    return lines


def _copy_tree(source: Path, kept: Path) -> int:
    changed = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        here = kept / Path(folder).relative_to(source)
        _make_folder(here)
        for name in sorted(files):
            if name in SKIPPED:
                continue
            changed += _copy_file(Path(folder, name), here / name)
        for name in dirs:  # a symlink to a folder is listed in dirs
            if Path(folder, name).is_symlink():
                changed += _copy_file(Path(folder, name), here / name)
    return changed


def _make_folder(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ProjectBindsError(_conflict(path, "a folder"))
    path.mkdir(parents=True, exist_ok=True)


def _copy_file(source: Path, kept: Path) -> int:
    """Copy one file (or symlink) unless `kept` has it already; 1 if it was copied."""
    if kept.is_dir() and not kept.is_symlink():
        raise ProjectBindsError(_conflict(kept, "a file"))
    if source.is_symlink():
        target = os.readlink(source)
        if kept.is_symlink() and os.readlink(kept) == target:
            return 0
        link_atomically(target, kept)
        return 1
    if kept.is_file() and not kept.is_symlink() and _same(source, kept):
        return 0
    copy_atomically(source, kept)
    return 1


def _same(source: Path, kept: Path) -> bool:
    same_mode = (source.stat().st_mode & 0o7777) == (kept.stat().st_mode & 0o7777)
    return same_mode and filecmp.cmp(source, kept, shallow=False)


def _conflict(path: Path, wanted: str) -> str:
    return (
        f"{path} in the binds folder is in the way: the commit has {wanted} there. Nothing was "
        "deleted. Move it aside (keep what a container wrote into it), then deploy again"
    )
