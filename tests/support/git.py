"""`git` for tests: one command in a working directory, its output, an error when it fails."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str) -> str:
    """The stripped standard output of `git *args` run in `cwd`; CalledProcessError if it fails."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()
