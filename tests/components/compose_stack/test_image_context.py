"""What makes a build context count as changed (components/compose_stack/images.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose_stack import images
from components.compose_stack.routes import RELEASE_FILE
from tests.support.git import git


def test_two_worktrees_of_one_commit_have_one_digest_even_with_the_release_file(
    tmp_path: Path,
) -> None:
    """A context of `.` holds the worktree's `.git` file (naming the worktree) and the release
    file Slipway writes before `up`: neither may rebuild the image on every deploy."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "Dockerfile").write_text("FROM busybox\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    digests = []
    for number in (1, 2):
        tree = tmp_path / f"worktree-{number}"
        git(repo, "worktree", "add", "-q", "--detach", str(tree), "HEAD")
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


def test_a_dockerfile_outside_the_context_counts_as_part_of_it(tmp_path: Path) -> None:
    """`build: {context: ./app, dockerfile: ../Dockerfile.app}`: a commit that changes only
    that Dockerfile must rebuild the image."""
    context, dockerfile = tmp_path / "app", tmp_path / "Dockerfile.app"
    context.mkdir()
    (context / "main.sh").write_text("echo hi\n")
    dockerfile.write_text("FROM busybox\n")
    first = images.context_digest(context, dockerfile)
    dockerfile.write_text("FROM busybox\nRUN true\n")
    assert images.context_digest(context, dockerfile) != first
    inside = context / "Dockerfile"
    inside.write_text("FROM busybox\n")
    assert images.context_digest(context, inside) == images.context_digest(context)


def test_an_unreadable_dockerfile_names_the_compose_key(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"fix `build\.dockerfile`"):
        images.context_digest(tmp_path, tmp_path.parent / "missing.Dockerfile")
