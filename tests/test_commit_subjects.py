"""Commit subjects of 72 characters at most (CONTRIBUTING.md, "Commits"), for new commits.

History before `BASE` is left as it is (229 of its 323 subjects are longer); every commit
after it must keep the rule. A clone without `BASE` in its history (a shallow CI checkout,
a copy without .git) skips with the reason.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.paths import REPO_ROOT

BASE = "c80a22fd5d3602dbbfb2886547b193bcc02070c5"  # HEAD when the rule was added
LIMIT = 72
# Commits after BASE that broke the rule before it was known; history is shared, so they
# are not rewritten. Add none: reword yours before pushing.
EXEMPT = {
    "b5df2f7",  # by parallel sessions, minutes after the rule was added
    "1f2dc99",
    "a5f915f",  # 74 characters; helpers had built on it before it was seen
}


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def long_subjects(log: str, limit: int = LIMIT) -> list[str]:
    """`git log --format=%h %s` lines whose subject is longer than `limit` characters."""
    found = []
    for line in log.splitlines():
        sha, _, subject = line.partition(" ")
        if len(subject) > limit and sha[:7] not in EXEMPT:
            found.append(f"{sha} ({len(subject)} chars): {subject}")
    return found


def test_new_commit_subjects_are_at_most_72_characters() -> None:
    if _git("cat-file", "-e", f"{BASE}^{{commit}}").returncode != 0:
        pytest.skip(f"commit {BASE[:12]} is not in this clone's history (shallow or no .git)")
    log = _git("log", "--no-merges", "--abbrev=7", "--format=%h %s", f"{BASE}..HEAD")
    assert log.returncode == 0, log.stderr
    long = long_subjects(log.stdout)
    assert not long, (
        "commit subjects over 72 characters (reword them before pushing: "
        "git rebase -i, 'reword'; say the why in the body):\n" + "\n".join(long)
    )


def test_a_long_subject_is_found() -> None:
    log = f"abc1234 {'x' * 72}\ndef5678 {'y' * 73}\n"
    assert long_subjects(log) == [f"def5678 (73 chars): {'y' * 73}"]
