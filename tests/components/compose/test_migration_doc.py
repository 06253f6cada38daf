"""docs/migration.md's example is what `migrate --diff` writes (issue 34 item 8).

Its comments once explained the change inside the YAML (`# was: extends: ...`), which the
tool never writes. Every line of the example (but the `…` cuts) must be a line of the
migrated file, in the same order.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT

EXAMPLE = re.compile(r"Example: what `migrate --diff.*?```yaml\n(.*?)```", re.S)


def test_the_example_is_the_migrated_file(tmp_path: Path) -> None:
    block = EXAMPLE.search((REPO_ROOT / "docs/migration.md").read_text())
    assert block, "docs/migration.md has no `migrate --diff` example"
    shutil.copytree(REPO_ROOT / "stacks/legacy", tmp_path / "legacy")
    done = subprocess.run(
        [sys.executable, "-m", "components.compose", "migrate", "--diff", "app.yml"],
        cwd=tmp_path / "legacy", env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    migrated = [
        line[1:] for line in done.stdout.splitlines()
        if line[:1] in (" ", "+") and not line.startswith("+++")
    ]  # fmt: skip
    position = 0
    for line in block.group(1).splitlines():
        if line.strip() in ("", "…"):
            continue
        assert line in migrated[position:], f"not in what migrate writes (in order): {line!r}"
        position = migrated.index(line, position) + 1
