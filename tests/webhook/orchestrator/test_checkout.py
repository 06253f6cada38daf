"""GitMirror on a real temporary repository: worktree per commit, removed afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.orchestrator.checkout import CheckoutError, GitMirror, UnknownCommitError


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


def test_one_name_serves_job_after_job_at_the_same_path(app_repo, tmp_path: Path):
    """The pipeline's one worktree per stack: each job gets its own commit at that path."""
    first = app_repo.commit_app("one")
    second = app_repo.commit_app("two")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    paths = []
    for sha, text in ((first, "'one'"), (second, "'two'"), (first, "'one'")):
        with mirror.worktree(sha, "stack-prod") as tree:
            assert text in (tree / "app.py").read_text()
            (tree / ".slipway-release").write_text("left by the job")
            paths.append(tree)
    assert len(set(paths)) == 1 and not paths[0].exists()


def test_a_leftover_that_cannot_be_removed_is_named_with_the_fix(
    app_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sha = app_repo.commit_app("one")
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    leftover = mirror.worktrees_dir / "stack-prod"
    (leftover / "data").mkdir(parents=True)
    monkeypatch.setattr(mirror, "_remove", lambda path: None)  # as if deletion was refused
    refused = pytest.raises(CheckoutError, match=r"could not be removed .* remove it by hand")
    with refused, mirror.worktree(sha, "stack-prod"):
        pass
    assert (leftover / "data").is_dir()  # nothing of it was touched
