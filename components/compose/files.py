"""Write files atomically and keep backups."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def hidden_temp_beside(path: Path, text: str) -> Path:
    """Write `text` to a hidden temp file in `path`'s directory (relative paths in it
    resolve exactly as in `path`)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".migrating", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    shutil.copymode(path, name)
    return Path(name)


def replace_with(path: Path, temp: Path, *, backup: bool) -> None:
    """Move `temp` over `path` atomically, keeping the original as `path.orig`."""
    if backup:
        shutil.copy2(path, path.with_name(path.name + ".orig"))
    os.replace(temp, path)
