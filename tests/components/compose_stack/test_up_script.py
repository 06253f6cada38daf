"""`make up`'s script: prerequisite checks, then the real deploy and its health check."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.real_stack import RealStack


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(repo_root: Path, bin_dir: Path, stack: str = "dev") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    env["PULUMI_CONFIG_PASSPHRASE"] = ""
    return subprocess.run(
        ["bash", str(repo_root / "scripts" / "up.sh"), stack],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    return path


def test_a_missing_cli_is_explained(repo_root: Path, bin_dir: Path) -> None:
    result = _run(repo_root, bin_dir)
    assert result.returncode == 1
    assert "error: the Pulumi CLI is not on PATH" in result.stderr
    assert "fix: run 'make up'" in result.stderr


def test_unknown_stack_is_explained(repo_root: Path, bin_dir: Path) -> None:
    _fake(bin_dir, "pulumi", "exit 0")
    _fake(bin_dir, "docker", "exit 0")
    result = _run(repo_root, bin_dir, stack="nosuchstack")
    assert result.returncode == 1
    assert "Pulumi.nosuchstack.yaml does not exist" in result.stderr


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.slow
def test_up_deploys_checks_health_and_keeps_a_generated_passphrase(real_stack: RealStack) -> None:
    result = real_stack.up_script()
    assert result.returncode == 0, result.stderr + result.stdout
    done = f"make up: stack '{real_stack.stack}' deployed and healthy. It answers at: "
    assert f"{done}{real_stack.health_url}" in result.stdout
    assert real_stack.health_url in result.stdout  # where the app answers
    passphrase = Path(real_stack.env["PULUMI_BACKEND_URL"].removeprefix("file://")) / ".passphrase"
    assert passphrase.stat().st_mode & 0o777 == 0o600
    assert f"generated the passphrase of this backend's secrets in {passphrase}" in result.stderr


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.slow
def test_up_says_when_the_deployed_stack_is_unhealthy(real_stack: RealStack) -> None:
    config = real_stack.work / f"Pulumi.{real_stack.stack}.yaml"
    config.write_text(config.read_text().replace("/cgi-bin/healthz", "/no-such-page"))
    result = real_stack.up_script()
    assert result.returncode == 1
    assert "is deployed but its health checks fail" in result.stderr
    assert "health: FAIL" in result.stdout and "HTTP 404" in result.stdout


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.slow
def test_up_names_the_fix_when_a_container_outside_the_state_holds_a_name(
    real_stack: RealStack,
) -> None:
    squatter = real_stack.container("db")
    subprocess.run(["docker", "create", "--name", squatter, "slipway/base:busybox", "true"],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    result = real_stack.up_script()
    assert result.returncode == 1
    assert f'The container name "/{squatter}" is already in use' in result.stdout
    assert "exists outside its state" in result.stderr and "docker rm -f" in result.stderr
