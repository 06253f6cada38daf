"""Issue 32 finding 11: a database that takes no write. A read-only database file stops the
start with the reason; on a full disk every write answers 503 with the reason, not a 500,
and the service writes again once space is freed, without a restart.

The real `python -m webhook serve` runs in a mount namespace of its own (`unshare -m`), on a
small tmpfs or with its database file bind-mounted read-only: root alone is not stopped by
file modes, a read-only mount stops everyone.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.service import AUTH, PROCESS_SETTINGS, REPO_ROOT, signed_delivery
from webhook.startup import EXIT_STATE_DIR_UNUSABLE
from webhook.store import Store

LIMIT = 60.0  # a bound for the waits below, never asserted on


def namespaces_available() -> bool:
    try:
        probe = ["unshare", "-m", "--propagation", "private", "true"]
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


if not namespaces_available():
    reason = "needs root and `unshare -m` (mount namespaces) to make a full or read-only disk"
    if os.environ.get("SLIPWAY_REQUIRE_REAL") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def serve_command(setup: str, port: int) -> list[str]:
    """`setup` (shell, as root in a private mount namespace), then the real serve."""
    serve = f"exec {sys.executable} -m webhook serve --port {port}"
    return ["unshare", "-m", "--propagation", "private", "sh", "-ec", f"{setup}\n{serve}"]


def environment(state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        **PROCESS_SETTINGS,
        "SLIPWAY_STATE_DIR": str(state),
    }


def test_a_read_only_database_file_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    state = tmp_path / "state"
    database = state / "slipway.db"
    Store.open(database).close()
    read_only = f"mount --bind {database} {database}\nmount -o remount,bind,ro {database}"
    result = subprocess.run(
        serve_command(read_only, free_port()),
        env=environment(state),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert result.returncode == EXIT_STATE_DIR_UNUSABLE, result.stderr
    assert f"cannot write the database {database}" in result.stderr, result.stderr
    assert "read-only" in result.stderr and "make the file" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def fill(directory: Path) -> Path:
    """Write a file into `directory` until its disk is full; the file."""
    filler = directory / "filler"
    with filler.open("wb") as out:
        for _ in range(10_000):  # far more than the tmpfs holds
            try:
                out.write(b"\0" * 65536)
                out.flush()
                os.fsync(out.fileno())
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                return filler
    raise AssertionError(f"{directory} never filled up")


def test_writes_on_a_full_disk_answer_503_with_the_reason_then_recover(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        serve_command(f"mount -t tmpfs -o size=2m slipway-test {state}", port),
        env=environment(state),
        cwd=tmp_path,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=30)
        deadline = time.monotonic() + LIMIT
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        # The service's own view of its state directory: the tmpfs in its namespace.
        filler = fill(Path(f"/proc/{process.pid}/root") / str(state).lstrip("/"))

        answers = []
        for number in range(200):  # until a write needs a block the disk does not have
            answer = client.post("/deployments", json={"sha": f"{number:040x}"})
            answers.append(answer)
            if answer.status_code != 202:
                break
        refused = answers[-1]
        assert refused.status_code == 503, (refused.status_code, refused.text, log.read_text())
        assert {a.status_code for a in answers[:-1]} <= {202}
        assert "the disk holding the database is full" in refused.json()["error"]
        assert "SLIPWAY_STATE_DIR" in refused.json()["error"]
        assert refused.headers["retry-after"].isdigit()

        hook = client.post("/hooks/github", **signed_delivery("ping", {"zen": "z", "hook_id": 1}))
        assert hook.status_code == 503, hook.text
        assert "the disk holding the database is full" in hook.json()["error"]
        assert client.get("/readyz").status_code == 503

        filler.unlink()
        again = client.post("/deployments", json={"sha": "f" * 40})
        assert again.status_code == 202, again.text
        assert client.get("/readyz").status_code == 200
        client.close()
    finally:
        process.terminate()
        process.wait(LIMIT)
    assert "Traceback" not in log.read_text(), log.read_text()
