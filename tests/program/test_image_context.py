"""What makes a build context count as changed (components/compose_stack/images.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from components.compose_stack import images
from components.compose_stack.routes import RELEASE_FILE


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_two_worktrees_of_one_commit_have_one_digest_even_with_the_release_file(
    tmp_path: Path,
) -> None:
    """A context of `.` holds the worktree's `.git` file (naming the worktree) and the release
    file Slipway writes before `up`: neither may rebuild the image on every deploy."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "Dockerfile").write_text("FROM busybox\n")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    digests = []
    for number in (1, 2):
        tree = tmp_path / f"worktree-{number}"
        _git(repo, "worktree", "add", "-q", "--detach", str(tree), "HEAD")
        assert (tree / ".git").is_file()
        (tree / RELEASE_FILE).write_text(f"d{number}")
        digests.append(images.context_digest(tree))
    assert digests[0] == digests[1]


def test_a_changed_file_or_mode_changes_the_digest(tmp_path: Path) -> None:
    (tmp_path / "app.sh").write_text("echo one\n")
    first = images.context_digest(tmp_path)
    (tmp_path / "app.sh").write_text("echo two\n")
    second = images.context_digest(tmp_path)
    (tmp_path / "app.sh").chmod(0o755)
    third = images.context_digest(tmp_path)
    assert len({first, second, third}) == 3
