"""The client against a real service that cannot deploy: it says why at once, no long wait."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.ports import free_port
from tests.support.service import REPO_ROOT as REPO
from tests.support.service import TOKEN, ServeProcess

SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def client(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLIPWAY_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "deploy_client", *args],
        env={**env, "PYTHONPATH": str(REPO), "SLIPWAY_URL": url, "SLIPWAY_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_repository_configured_is_exit_5_with_the_fix_not_a_timeout(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path / "state", free_port())  # as `make serve`: no repository
    try:
        started = time.monotonic()
        waited = client(server.url, "deploy", "--sha", SHA, "--wait", "--timeout", "1200")
        assert time.monotonic() - started < 60
        assert waited.returncode == 5, waited.stdout + waited.stderr
        [error] = [line for line in waited.stdout.splitlines() if " error: " in line]
        assert error.endswith(
            "error: deployment 1 is recorded, but the service cannot run deployments now: "
            "SLIPWAY_REPO_URL is not set, so nothing deploys: requests are recorded and stay "
            "queued; set SLIPWAY_REPO_URL to the repository to deploy and restart the service; "
            "the queued requests run then (docs/runbook.md)"
        )

        queued = client(server.url, "deploy", "--sha", SHA)  # no --wait: a warning, exit 0
        assert queued.returncode == 0
        assert "warning: deployment 2 is recorded, but the service cannot run" in queued.stdout
    finally:
        server.process.terminate()
        server.process.wait(15)
