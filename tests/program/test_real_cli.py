"""The dev stack with the real Pulumi CLI and Docker engine (skipped where they are absent).

These run `pulumi preview` and `pulumi up`/`destroy` of the `dev` stack on a throw-away
local file backend, exactly as `make up` does, then check the containers with `docker`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]


@pytest.fixture
def pulumi_env(tmp_path: Path) -> dict[str, str]:
    backend = tmp_path / "state"
    backend.mkdir()
    return {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "test-only",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }


def _pulumi(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_preview_of_the_dev_stack(repo_root: Path, pulumi_env: dict[str, str]) -> None:
    assert _pulumi(["stack", "select", "--create", "dev"], pulumi_env, repo_root).returncode == 0
    preview = _pulumi(["preview", "--stack", "dev", "--json"], pulumi_env, repo_root)
    assert preview.returncode == 0, preview.stderr
    steps = json.loads(preview.stdout)["steps"]
    containers = [s for s in steps if s["newState"]["type"] == "docker:index/container:Container"]
    assert len(containers) == 5


def test_up_creates_the_containers_and_destroy_removes_them(
    repo_root: Path, pulumi_env: dict[str, str], tmp_path: Path
) -> None:
    # The sample app's images are not published; a stack of public images is deployed instead.
    config_file = tmp_path / "Pulumi.realtest.yaml"
    fixture = Path(__file__).parent / "fixtures" / "real-stack.yml"
    config_file.write_text(f"config:\n  slipway:composeFiles:\n    - {fixture}\n")
    stack = ["--stack", "realtest", "--config-file", str(config_file)]
    assert _pulumi(["stack", "init", "realtest"], pulumi_env, repo_root).returncode == 0
    try:
        up = _pulumi(["up", *stack, "--yes"], pulumi_env, repo_root)
        assert up.returncode == 0, up.stderr
        outputs = _pulumi(
            ["stack", "output", "--json", "--stack", "realtest"], pulumi_env, repo_root
        )
        services = json.loads(outputs.stdout)["services"]
        assert services == {"cache": "slipway-realtest-cache-1", "web": "slipway-realtest-web-1"}
        health = _docker_inspect("{{.State.Health.Status}}", services["cache"])
        assert health == "healthy"  # `web` was created only after `cache` became healthy
        assert _docker_inspect("{{.State.Running}}", services["web"]) == "true"
    finally:
        destroy = _pulumi(["destroy", *stack, "--yes"], pulumi_env, repo_root)
        assert destroy.returncode == 0, destroy.stderr
    assert _docker_inspect("{{.Name}}", services["web"]) == ""


def _docker_inspect(template: str, container: str) -> str:
    result = subprocess.run(
        ["docker", "inspect", "-f", template, container],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()
