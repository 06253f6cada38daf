"""The project's foundation: layout, pinned dependencies, and the README's commands."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest


def test_ci_runs_exactly_the_readme_test_command(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    ci = (repo_root / ".ci" / "run").read_text()
    assert "make test" in readme
    commands = [
        ln
        for ln in ci.splitlines()
        if ln.strip() and not ln.startswith(("#", "set ", "cd ", "export "))
    ]
    assert commands == ["make test"]


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_is_pinned(repo_root: Path, name: str) -> None:
    for line in (repo_root / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), (
            f"{name}: not pinned: {line}"
        )


@pytest.mark.parametrize("stack", ["app.yml", "monitoring.yml"])
def test_sample_stacks_are_valid_compose_without_extends(
    repo_root: Path, docker_compose_bin: str, stack: str
) -> None:
    path = repo_root / "stacks" / stack
    assert "extends" not in path.read_text()
    result = subprocess.run(
        [docker_compose_bin, "-p", "slipway-test", "-f", str(path), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_committed_stack_configs_carry_no_encryption_salt(repo_root: Path) -> None:
    """A salt made with one passphrase makes every other checkout's first `make up` fail
    ("incorrect passphrase"): the first `up` on a machine writes its own."""
    # The committed text, not the working file: `make up` rightly writes a salt there.
    names = subprocess.run(
        ["git", "ls-files", "Pulumi.*.yaml"], cwd=repo_root, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    assert names, "no committed stack configs found"
    for name in names:
        committed = subprocess.run(
            ["git", "show", f"HEAD:{name}"], cwd=repo_root, capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip
        assert "encryptionsalt:" not in committed, f"{name} is committed with a salt"
