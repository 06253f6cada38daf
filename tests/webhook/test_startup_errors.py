"""`serve` refuses an unusable state directory with one message and a documented exit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.webhook.test_settings import run_cli

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
