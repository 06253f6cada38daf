"""GitMirror on a real temporary repository: worktree per commit, removed afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.checkout import CheckoutError, GitMirror, UnknownCommitError


def test_worktree_has_the_exact_commit_and_is_removed(app_repo, tmp_path: Path):
    first = app_repo.commit_app("one")
    second = app_repo.commit_app("two")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    with mirror.worktree(first, "job-1") as tree:
        assert "'one'" in (tree / "app.py").read_text()
        kept = tree
    assert not kept.exists()
    with mirror.worktree(second[:10], "job-2") as tree:
        assert "'two'" in (tree / "app.py").read_text()
    assert list((tmp_path / "state" / "git" / "worktrees").iterdir()) == []


def test_commit_pushed_after_the_mirror_was_made_is_fetched(app_repo, tmp_path: Path):
    app_repo.commit_app("one")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    mirror.resolve(app_repo.shas["one"])
    later = app_repo.commit_app("later")
    assert mirror.resolve(later) == later


def test_unknown_sha_fails_with_a_clear_message(app_repo, tmp_path: Path):
    app_repo.commit_app("one")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    unknown = pytest.raises(UnknownCommitError, match=r"is not in .* check that it was pushed")
    with unknown, mirror.worktree("0" * 40, "job"):
        pass
    with pytest.raises(UnknownCommitError, match="not a commit sha"):
        mirror.resolve("main; rm -rf /")


def test_missing_repo_url_names_the_setting(tmp_path: Path):
    with pytest.raises(CheckoutError, match="SLIPWAY_REPO_URL"):
        GitMirror("", tmp_path / "state").resolve("a" * 40)


def test_stale_worktrees_are_removed(app_repo, tmp_path: Path):
    sha = app_repo.commit_app("one")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    context = mirror.worktree(sha, "left-by-crash")
    context.__enter__()  # never exited: what a killed process leaves behind
    assert mirror.remove_stale_worktrees() == ["left-by-crash"]
    assert not (mirror.worktrees_dir / "left-by-crash").exists()
