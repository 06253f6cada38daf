"""`make up`'s script: prerequisite checks, then `pulumi stack select` and `pulumi up`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


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


def test_missing_cli_and_engine_are_explained(repo_root: Path, bin_dir: Path) -> None:
    _fake(bin_dir, "docker", "exit 1")  # a Docker CLI whose engine does not answer
    result = _run(repo_root, bin_dir)
    assert result.returncode == 1
    assert "the Pulumi CLI is not installed" in result.stderr
    assert "https://www.pulumi.com/docs/install/" in result.stderr
    assert "no Docker engine answers" in result.stderr


def test_unknown_stack_is_explained(repo_root: Path, bin_dir: Path) -> None:
    _fake(bin_dir, "pulumi", "exit 0")
    _fake(bin_dir, "docker", "exit 0")
    result = _run(repo_root, bin_dir, stack="nosuchstack")
    assert result.returncode == 1
    assert "Pulumi.nosuchstack.yaml does not exist" in result.stderr


def test_selects_the_stack_on_the_local_backend_and_runs_up(
    repo_root: Path, bin_dir: Path, tmp_path: Path
) -> None:
    calls = tmp_path / "calls"
    _fake(bin_dir, "pulumi", f'echo "$PULUMI_BACKEND_URL $*" >> {calls}')
    _fake(bin_dir, "docker", "exit 0")
    result = _run(repo_root, bin_dir)
    assert result.returncode == 0, result.stderr
    backend = f"file://{repo_root}/.pulumi-state"
    assert calls.read_text().splitlines() == [
        f"{backend} stack select --create dev",
        f"{backend} up --stack dev",
    ]
