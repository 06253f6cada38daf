"""A migration's proven file: written beside the original, then renamed over it with a
backup. Plain atomic writes are components/atomic_write.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from components.atomic_write import temp_beside


def hidden_temp_beside(path: Path, text: str) -> Path:
    """Write `text` to a hidden temp file in `path`'s directory (relative paths in it
    resolve exactly as in `path`)."""
    temp = temp_beside(path, lambda handle: handle.write(text.encode("utf-8")), ".migrating")
    shutil.copymode(path, temp)
    return temp


def replace_with(path: Path, temp: Path, *, backup: bool) -> None:
    """Move `temp` over `path` atomically, keeping the original as `path.orig`."""
    if backup:
        shutil.copy2(path, path.with_name(path.name + ".orig"))
    os.replace(temp, path)
