"""One service per state directory: a second `serve` exits at once and touches nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.service import AUTH, ServeProcess
from tests.support.service import REPO_ROOT as REPO
from webhook.statelock import LOCK_NAME, StateDirBusy, StateDirLock, parse_holder
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState


def second_serve(state_dir: Path, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m webhook serve` on `state_dir`, with a repository configured (so that its
    startup would run the orchestrator's recovery if it got that far)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "webhook", "serve", "--port", str(port)],
        env={
            **clean,
            "PYTHONPATH": str(REPO),
            "SLIPWAY_WEBHOOK_SECRET": "w" * 32,
            "SLIPWAY_STATE_DIR": str(state_dir),
            "SLIPWAY_REPO_URL": str(state_dir.parent / "no-such-repo"),
            **env,
        },
        cwd=state_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def port_is_bound(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_second_service_exits_naming_the_holder_and_leaves_the_first_alone(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    first = ServeProcess(state_dir, free_port())
    try:
        with Store.open(state_dir / "slipway.db") as store:  # the first one's "running" job
            job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", "a" * 40))
            store.set_state(job.id, S.RUNNING, "deploying (test)")
        worktree = state_dir / "git" / "worktrees" / f"dev-{job.id}-deploy"
        worktree.mkdir(parents=True)
        (worktree / "Pulumi.yaml").write_text("name: slipway\n")

        port = free_port()
        started = time.monotonic()
        result = second_serve(state_dir, port)
        assert time.monotonic() - started < 30
        assert result.returncode == 4
        message = result.stderr.strip()
        assert f"pid {first.process.pid} on {socket.gethostname()}, since 20" in message
        assert "stop that one first, or give this one its own SLIPWAY_STATE_DIR" in message
        assert "Traceback" not in message and len(message.splitlines()) == 1
        assert not port_is_bound(port)

        with httpx.Client(base_url=first.url, headers=AUTH, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
            body = client.get(f"/deployments/{job.id}").json()
        assert body["state"] == "running"
        assert [h["state"] for h in body["history"]] == ["queued", "running"]
        assert (worktree / "Pulumi.yaml").is_file()
    finally:
        first.kill()

    # The holder died without unlocking (SIGKILL): the next service takes over at once.
    after = ServeProcess(state_dir, free_port())
    try:
        with httpx.Client(base_url=after.url, headers=AUTH, timeout=10) as client:
            assert client.get(f"/deployments/{job.id}").json()["state"] == "interrupted"
        holder = parse_holder((state_dir / LOCK_NAME).read_text())
        assert holder.pid == after.process.pid
    finally:
        after.process.terminate()
        after.process.wait(15)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from webhook.statelock import StateDirLock
lock = StateDirLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StateDirBusy, match=f"pid {holder.pid} on "):
            StateDirLock.acquire(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    lock = StateDirLock.acquire(tmp_path)
    try:
        assert parse_holder((tmp_path / LOCK_NAME).read_text()).pid == os.getpid()
    finally:
        lock.release()


def test_a_damaged_lock_file_still_gives_a_message() -> None:
    assert parse_holder("{not json").describe() == ("unknown pid on an unknown host, since unknown")
