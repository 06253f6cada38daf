"""The migration CLI works from any directory, not only the checkout root (issue 34).

docs/migration.md gave `.venv/bin/python -m components.compose ...`, a path that exists
only in the checkout root. Its commands now go through scripts/compose-migrate.sh, which
finds the project from its own location; the test runs it from a folder elsewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts/compose-migrate.sh"

BASE = "services:\n  base:\n    image: busybox\n    environment:\n      A: '1'\n"
APP = "services:\n  web:\n    extends:\n      file: base.yml\n      service: base\n"


def test_the_documented_command_works_from_another_directory(tmp_path: Path) -> None:
    doc = (REPO_ROOT / "docs/migration.md").read_text()
    commands = re.findall(r"^(\S+) migrate compose\.yml$", doc, flags=re.M)
    assert commands == ["scripts/compose-migrate.sh"], commands
    (tmp_path / "base.yml").write_text(BASE)
    (tmp_path / "compose.yml").write_text(APP)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        ["bash", str(SCRIPT), "migrate", "compose.yml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "extends:" not in (tmp_path / "compose.yml").read_text()
