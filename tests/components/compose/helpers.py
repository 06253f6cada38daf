"""Helpers for the Compose migration tests: copy projects, read comments, run config."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from components.compose.docker_compose import compose_config
from components.compose.equivalence import normalize


def copy_tree(source: Path, target: Path) -> Path:
    """Copy a (possibly read-only) directory so that tests can write into the copy."""
    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def comment_lines(text: str) -> Counter:
    """Every full-line comment, stripped, with its count."""
    return Counter(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


def model(files: list[Path], project_dir: Path) -> dict:
    """Compose's normalized model, with the project directory written as `<project>`."""
    found = compose_config(files, project_name="t", project_directory=project_dir)
    text = json.dumps(normalize(found), sort_keys=True).replace(str(project_dir), "<project>")
    return json.loads(text)
