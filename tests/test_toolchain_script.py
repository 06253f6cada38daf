"""scripts/toolchain.sh's warm check: no CLI run while the verified build is still there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.paths import REPO_ROOT


def _toolchain(cache: Path, *args: str) -> subprocess.CompletedProcess:
    # No `pulumi` on PATH: the script would take an installed one of the pinned version
    # (`make test` puts the real one there) instead of the fake built parts.
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not Path(d, "pulumi").exists()]
    env = {**os.environ, "SLIPWAY_CACHE_DIR": str(cache), "PATH": os.pathsep.join(path)}
    return subprocess.run(
        ["bash", "scripts/toolchain.sh", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _fake_built(cache: Path, runs: Path) -> Path:
    """Every part of a built toolchain, each binary a script that logs its runs."""
    bindir = Path(_toolchain(cache, "bindir").stdout.strip())
    key_dir = bindir.parent
    registry = Path(_toolchain(cache, "registry-bin").stdout.strip())
    parts = [bindir / n for n in ("pulumi", "pulumi-language-python",
                                  "pulumi-resource-pulumi-python")]  # fmt: skip
    parts += [key_dir / "providers" / n for n in ("pulumi-resource-docker",
                                                  "pulumi-resource-github")]  # fmt: skip
    for part in [*parts, registry]:
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text(f'#!/bin/sh\necho "{part.name} $*" >> {runs}\necho v3.274.1\n')
        part.chmod(0o755)
    for plugin in ("resource-docker-v5.2.0", "resource-github-v6.15.0"):
        (key_dir / "home" / "plugins" / plugin).mkdir(parents=True)
    return key_dir


def test_a_verified_build_is_trusted_while_its_parts_are_there(tmp_path) -> None:
    runs = tmp_path / "runs.log"
    key_dir = _fake_built(tmp_path / "cache", runs)
    (key_dir / "ready").write_text("2026-12-07T00:00:00Z\n")
    done = _toolchain(tmp_path / "cache", "build")
    assert done.returncode == 0, done.stderr
    assert "toolchain: ready: pulumi v3.274.1" in done.stderr
    assert not runs.exists(), f"the CLI ran: {runs.read_text()}"


def test_a_missing_part_is_checked_again_and_the_stamp_dropped(tmp_path) -> None:
    runs = tmp_path / "runs.log"
    key_dir = _fake_built(tmp_path / "cache", runs)
    (key_dir / "ready").write_text("2026-12-07T00:00:00Z\n")
    shutil.rmtree(key_dir / "home" / "plugins" / "resource-github-v6.15.0")
    done = _toolchain(tmp_path / "cache", "build")
    assert "pulumi version" in runs.read_text(), done.stderr
    assert "checked when built" not in done.stderr


def test_with_toolchain_stops_when_the_toolchain_is_not_built(tmp_path) -> None:
    """A command is never run without the toolchain it was promised (make serve relies on it)."""
    # An engine that answers (a `docker` that succeeds): only the toolchain is missing.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text("#!/bin/sh\nexit 0\n")
    (fake / "docker").chmod(0o755)
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not Path(d, "pulumi").exists()]
    env = {**os.environ, "SLIPWAY_CACHE_DIR": str(tmp_path), "DOCKER_HOST": "unix:///fake.sock",
           "PATH": os.pathsep.join([str(fake), *path])}  # fmt: skip
    ran = tmp_path / "ran"
    done = subprocess.run(
        ["bash", "scripts/with-toolchain.sh", "touch", str(ran)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stderr
    assert "the toolchain is not built" in done.stderr
    assert not ran.exists(), "the command ran without the toolchain"
