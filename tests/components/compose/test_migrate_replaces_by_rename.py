"""A migration replaces the file by one rename and leaves no temp file (issue 34 item 15).

write_atomically has tests of its own, but the migration writes through
`files.replace_with`: turning its rename into an in-place write (a reader could see half a
file, a crash leave one), or dropping the temp file's removal, passed every test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT


def test_migrate_renames_the_proven_file_over_the_original(tmp_path: Path) -> None:
    project = tmp_path / "legacy"
    shutil.copytree(REPO_ROOT / "stacks/legacy", project)
    target = project / "app.yml"
    original = target.read_text()
    before = set(os.listdir(project))
    with target.open() as reader:  # opened before the migration: must keep the old file
        inode = os.stat(target).st_ino
        done = subprocess.run(
            [sys.executable, "-m", "components.compose", "migrate", "app.yml"],
            cwd=project, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + done.stdout
        assert reader.read() == original  # a whole old file, never a mix
    assert os.stat(target).st_ino != inode, "the file was rewritten in place, not renamed"
    assert "extends:" not in target.read_text()
    assert set(os.listdir(project)) - before == {"app.yml.orig"}, os.listdir(project)
    assert (project / "app.yml.orig").read_text() == original
