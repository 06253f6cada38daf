"""A clone of this repository alone works: no doc points outside it, and the tests that read
the Compose corpus (kept outside) skip with the reason, unless CI requires the corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS_TESTS = [
    "tests/components/compose/test_corpus.py",
    "tests/components/compose_stack/test_corpus.py",
]


def test_no_doc_sends_readers_outside_the_repository(repo_root: Path) -> None:
    docs = [repo_root / "README.md", *sorted((repo_root / "docs").rglob("*.md"))]
    found = [
        f"{path.relative_to(repo_root)}:{number}"
        for path in docs
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "../shared" in line
    ]
    assert not found, f"these lines send readers to ../shared: {found}"


def test_ci_requires_the_corpus(repo_root: Path) -> None:
    assert "export SLIPWAY_REQUIRE_CORPUS=1" in (repo_root / ".ci" / "run").read_text()


def _corpus_tests(repo_root: Path, shared: Path, require: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SLIPWAY_REQUIRE_CORPUS"}
    env["SLIPWAY_SHARED_DIR"] = str(shared)
    if require:
        env["SLIPWAY_REQUIRE_CORPUS"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(
        command + CORPUS_TESTS, cwd=repo_root, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("require", [False, True])
def test_a_missing_corpus_skips_with_the_reason_or_fails_when_required(
    repo_root: Path, tmp_path: Path, require: bool
) -> None:
    result = _corpus_tests(repo_root, tmp_path, require)
    assert f"Compose corpus not found at {tmp_path / 'corpus' / 'compose-real'}" in result.stdout
    assert "set SLIPWAY_SHARED_DIR" in result.stdout
    if require:
        assert result.returncode == 1, result.stdout
        assert "2 errors" in result.stdout
        assert "SLIPWAY_REQUIRE_CORPUS=1 requires it" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "2 skipped" in result.stdout
