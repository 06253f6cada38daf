"""Slipway's one change to the docker provider (toolchain/docker-provider/shim/network.go):
networks created, read and removed without the upstream's fixed 2 s waits, leaving the
state and the engine exactly as the upstream's create, read and delete do. The shim's Go
test runs both on the project's engine, compares them field by field, and counts any call
that still went through the upstream's waiting loop."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.paths import REPO_ROOT

pytestmark = [pytest.mark.docker_engine, pytest.mark.slow]


@pytest.mark.timeout(900)
def test_prompt_networks_match_the_upstream_provider() -> None:
    if not shutil.which("go"):
        pytest.fail("no `go` on PATH: the toolchain is built with it (docs/toolchain.md)")
    done = subprocess.run(
        ["bash", "scripts/toolchain.sh", "test-docker-shim"], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=850, check=False,
    )  # fmt: skip
    # The provider logs every Docker call; the test's own lines are what explain a failure.
    lines = (done.stdout + done.stderr).splitlines()
    told = [line for line in lines if "network_test.go" in line or "FAIL" in line]
    assert done.returncode == 0, "\n".join(told or lines[-40:])
    assert "ok" in done.stdout, done.stdout[-2000:]
