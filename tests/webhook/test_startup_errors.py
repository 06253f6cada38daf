"""`serve` refuses an unusable state directory with one message and a documented exit code."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from tests.webhook.test_settings import run_cli
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

SECRET = {"SLIPWAY_WEBHOOK_SECRET": "s" * 32}


def one_message(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_database_from_a_newer_slipway_is_one_message_and_exit_5(tmp_path: Path) -> None:
    state = tmp_path / "var"
    state.mkdir()
    with sqlite3.connect(state / "slipway.db") as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (99)")
    result = run_cli(tmp_path, "serve", **SECRET)
    assert result.returncode == 5
    message = one_message(result.stderr)
    assert "schema version 99 is newer than this code knows" in message
    assert "run that version, or restore a backup made with this one" in message


def test_a_state_directory_that_is_a_file_is_one_message_and_exit_5(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("not a directory")
    result = run_cli(tmp_path, "serve", **SECRET)
    assert result.returncode == 5
    message = one_message(result.stderr)
    assert message.startswith("the service cannot start: cannot use the state directory var")
    assert "or set SLIPWAY_STATE_DIR" in message


def test_a_taken_port_is_one_message_and_exit_3_before_any_startup_work(tmp_path: Path) -> None:
    with Store.open(tmp_path / "var" / "slipway.db") as store:
        job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", "c" * 40))
        store.set_state(job.id, DeploymentState.RUNNING)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port), **SECRET)
    assert result.returncode == 3
    message = one_message(result.stderr)
    assert message == (
        f"the service cannot start: cannot listen on 127.0.0.1:{port}: Address already in use. "
        "Stop the process that uses it, or choose another address or port (--host/--port, "
        "SLIPWAY_HOST/SLIPWAY_PORT)."
    )
    with Store.open(tmp_path / "var" / "slipway.db") as store:  # no recovery ran
        assert store.get_deployment(job.id).state == DeploymentState.RUNNING
