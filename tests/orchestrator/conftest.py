"""Fixtures for the orchestrator tests: a real git repository of test apps, a local runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.orchestrator.apps import AppRepo, init_app_repo
from tests.support.local_process import LocalProcessRunner


@pytest.fixture
def app_repo(tmp_path: Path) -> AppRepo:
    return init_app_repo(tmp_path / "origin")


@pytest.fixture
def local_runner(tmp_path: Path) -> Iterator[LocalProcessRunner]:
    runner = LocalProcessRunner(tmp_path / "backend")
    yield runner
    runner.stop_all()
