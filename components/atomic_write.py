"""Replace files so that readers never see half of one; the command that makes a folder
writable, the one fix every "may not write" error names.

One module for the service (webhook/), the Pulumi program (components/), the tests and the
benchmarks: it lives in components/ because the service image ships only webhook/ and
components/, and it needs neither Pulumi nor the service.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def temp_beside(path: Path, fill: Callable[[BinaryIO], object], suffix: str) -> Path:
    """A new hidden file in `path`'s directory, written by `fill` and on disk; removed again
    if writing fails."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the real file
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _rename_over(temp: Path, path: Path) -> None:
    """Move `temp` over `path` in one rename; `temp` is removed if that fails."""
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, text: str, mode: int | None = None) -> None:
    """Replace `path` with `text` so that readers never see a half-written file; `mode`:
    its permission bits (else the temp file's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def fill(handle: BinaryIO) -> None:
        handle.write(text.encode("utf-8"))
        if mode is not None:
            os.fchmod(handle.fileno(), mode)

    _rename_over(temp_beside(path, fill, ".tmp"), path)


def copy_atomically(source: Path, path: Path) -> None:
    """Replace `path` with a copy of the file `source` (content and mode) in one rename."""
    mode = stat.S_IMODE(source.stat().st_mode)

    def fill(handle: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, handle)
        os.fchmod(handle.fileno(), mode)

    _rename_over(temp_beside(path, fill, ".tmp"), path)


def link_atomically(target: str, path: Path) -> None:
    """Replace `path` with a symlink to `target` in one rename."""
    temp = path.with_name(f".{path.name}.link")
    temp.unlink(missing_ok=True)
    temp.symlink_to(target)
    _rename_over(temp, path)


def make_writable_command(folder: Path | str, uid: int) -> str:
    """The shell command, to run on the Docker host, that lets user `uid` write `folder`
    (creating it if needed): the one fix every "may not write" error names."""
    return f"`mkdir -p {folder} && chown -R {uid} {folder}`"
