"""Write files atomically and keep backups."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _temp_beside(path: Path, text: str, suffix: str) -> Path:
    """`text` in a new hidden file in `path`'s directory; removed again if writing fails."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the real file
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def hidden_temp_beside(path: Path, text: str) -> Path:
    """Write `text` to a hidden temp file in `path`'s directory (relative paths in it
    resolve exactly as in `path`)."""
    temp = _temp_beside(path, text, ".migrating")
    shutil.copymode(path, temp)
    return temp


def replace_with(path: Path, temp: Path, *, backup: bool) -> None:
    """Move `temp` over `path` atomically, keeping the original as `path.orig`."""
    if backup:
        shutil.copy2(path, path.with_name(path.name + ".orig"))
    os.replace(temp, path)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_beside(path, text, ".tmp")
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def copy_atomically(source: Path, path: Path) -> None:
    """Replace `path` with a copy of the file `source` (content and mode) in one rename."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle, source.open("rb") as original:
            shutil.copyfileobj(original, handle)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(source, temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
