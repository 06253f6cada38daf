"""A bind of a checkout path through the real deploy loop (components/compose_stack/
project_binds.py): what a container writes there survives the job's checkout being removed,
a restart and the next deployment; the repository's files there follow each commit."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.deploy_loop import Loop
from tests.support.real_stack import docker_inspect

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

S_OK = "succeeded"
# The demo worker with a bind of the project folder: it logs each start into it.
WORKER = """  worker:
    build: ./worker
    volumes:
      - ./worker-state:/state
    command: ["sh", "-c", "date >> /state/starts && exec sleep 100000"]
"""


def _with_bound_worker(repo_path: Path) -> None:
    compose = repo_path / "stacks/demo/compose.yml"
    text = compose.read_text()
    start = text.index("  worker:\n")
    end = text.index("\nvolumes:", start)
    compose.write_text(text[:start] + WORKER + text[end:])
    (repo_path / "stacks/demo/worker-state").mkdir()
    (repo_path / "stacks/demo/worker-state/seed.txt").write_text("v1\n")


def _in_worker(loop: Loop, *command: str) -> str:
    done = subprocess.run(
        ["docker", "exec", f"{loop.repo.project}-worker-1", *command],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_what_a_container_writes_into_a_project_bind_is_kept(
    loop: Loop,
    tmp_path: Path,
) -> None:
    _with_bound_worker(loop.repo.path)
    r1 = loop.repo.healthy("r1")
    first = loop.wait(loop.push(r1))
    assert first.state.value == S_OK, loop.log(first.id)

    source = docker_inspect(
        '{{range .Mounts}}{{if eq .Destination "/state"}}{{.Source}}{{end}}{{end}}',
        f"{loop.repo.project}-worker-1",
    )
    checkout = tmp_path / "state/git/worktrees" / f"stack-{loop.repo.stack}"
    deadline = time.monotonic() + 30  # the job removes its checkout just after the state
    while checkout.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not checkout.exists()
    # What the container wrote is still there (the bug it guards: a bind into the checkout,
    # whose removal deleted it). Only then the path, which says where to find it on the host.
    assert len(_in_worker(loop, "cat", "/state/starts").splitlines()) == 1
    binds = tmp_path / "state" / "binds"
    assert Path(source) == binds / f"stack-{loop.repo.stack}" / "stacks/demo/worker-state"
    assert _in_worker(loop, "cat", "/state/seed.txt") == "v1\n"
    assert len(_in_worker(loop, "cat", "/state/starts").splitlines()) == 1

    subprocess.run(["docker", "restart", f"{loop.repo.project}-worker-1"], check=True, timeout=60)
    assert len(_in_worker(loop, "cat", "/state/starts").splitlines()) == 2

    (loop.repo.path / "stacks/demo/worker-state/seed.txt").write_text("v2\n")
    r2 = loop.repo.healthy("r2")
    second = loop.wait(loop.push(r2))
    assert second.state.value == S_OK, loop.log(second.id)
    assert _in_worker(loop, "cat", "/state/seed.txt") == "v2\n"  # the commit's file
    assert len(_in_worker(loop, "cat", "/state/starts").splitlines()) >= 2  # the container's
    assert any("binds: " in line for line in loop.log(second.id))
