"""Fixtures of the end-to-end tests: the deploy loop on a fresh demo repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deploy_loop import Loop, demo_loop
from tests.support.fake_github import FakeGitHub


@pytest.fixture
def loop(tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path) -> Iterator[Loop]:
    with demo_loop(tmp_path, fake_github, octokit_examples_dir) as loop:
        yield loop
