"""`python -m components.compose migrate` as a user runs it: plain-text messages, the same
in a terminal, a CI log and a pipe, each naming the problem and the fix, with its exit code."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from components.compose import cli

from .test_cli import BASE

# Runs the real entry point with the planner's nested merge dropped (a result that differs).
BROKEN_PLANNER = (
    "import sys; from components.compose.plan import Planner; "
    "Planner._insert_merge = lambda self, node, anchor: None; "
    "from components.compose.cli import run; sys.exit(run())"
)
REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str], env: dict[str, str], terminal: bool) -> tuple[int, str]:
    """Run with stdout and stderr on a pipe, or on a pseudo-terminal; both streams, merged."""
    env = {**os.environ, **env}
    if not terminal:
        done = subprocess.run(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        return done.returncode, done.stdout.decode()
    parent, child = pty.openpty()
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(parent)
    return process.wait(timeout=60), b"".join(chunks).decode().replace("\r\n", "\n")


def _silent_compose(tmp_path: Path) -> str:
    script = tmp_path / "silent-compose"
    script.write_text("#!/bin/sh\nexit 7\n")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def compose_file(tmp_path: Path) -> Path:
    path = tmp_path / "compose.yml"
    path.write_text(BASE)
    return path


CASES = {
    "not-equivalent": (
        lambda tmp: ([sys.executable, "-c", BROKEN_PLANNER], {}),
        cli.EXIT_NOT_EQUIVALENT,
        [
            "✗ ",
            "would mean something else to Docker Compose; nothing was written",
            "services.web.environment.A: only before migration",
        ],
    ),
    "compose-path-wrong": (
        lambda tmp: (
            [sys.executable, "-m", "components.compose"],
            {"SLIPWAY_DOCKER_COMPOSE": str(tmp / "no" / "docker-compose")},
        ),
        cli.EXIT_NO_COMPOSE,
        ["is not an executable file", "set it to the path of docker-compose", "or unset it"],
    ),
    "compose-fails-silently": (
        lambda tmp: (
            [sys.executable, "-m", "components.compose"],
            {"SLIPWAY_DOCKER_COMPOSE": _silent_compose(tmp)},
        ),
        cli.EXIT_BAD_INPUT,
        ["exited with code 7 without saying why", "SLIPWAY_DOCKER_COMPOSE", "by hand"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_are_one_plain_message_alike_in_a_terminal_a_ci_log_and_a_pipe(
    tmp_path: Path, compose_file: Path, case: str
) -> None:
    make, code, fragments = CASES[case]
    command, env = make(tmp_path)
    argv = [*command, "migrate", str(compose_file)]
    ci = {**env, "CI": "true", "GITHUB_ACTIONS": "true", "FORCE_COLOR": "1"}
    runs = {
        "pipe": _run(argv, env, terminal=False),
        "terminal": _run(argv, env, terminal=True),
        "ci-log": _run(argv, ci, terminal=False),
    }
    assert len(set(runs.values())) == 1, runs
    exit_code, output = runs["pipe"]
    assert exit_code == code, output
    for fragment in fragments:
        assert fragment in output
    assert "Traceback" not in output
    assert "\x1b" not in output and "[/]" not in output and "[red]" not in output
    assert compose_file.read_text() == BASE


def test_success_lines_are_plain_text_too(tmp_path: Path, compose_file: Path) -> None:
    argv = [sys.executable, "-m", "components.compose", "migrate", "--diff", str(compose_file)]
    pipe, terminal = _run(argv, {}, terminal=False), _run(argv, {}, terminal=True)
    assert pipe == terminal
    assert pipe[0] == cli.EXIT_OK
    assert f"✓ {compose_file}: would migrate 1 service(s) (web)" in pipe[1]


def test_a_compose_that_cannot_be_executed_is_exit_5_with_the_fix(
    tmp_path: Path, compose_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    garbage = tmp_path / "docker-compose"
    garbage.write_bytes(b"\x00\x01 not a program")
    garbage.chmod(0o755)
    monkeypatch.setenv("SLIPWAY_DOCKER_COMPOSE", str(garbage))
    buffer = io.StringIO()
    assert cli.run(["migrate", str(compose_file)], buffer) == cli.EXIT_NO_COMPOSE
    message = buffer.getvalue()
    assert f"Docker Compose could not be run ({garbage}: Exec format error)" in message
    assert "set SLIPWAY_DOCKER_COMPOSE to a working docker-compose, or unset it" in message
    assert message.count("\n") == 1


def test_a_compose_file_that_is_not_executable_is_named(
    tmp_path: Path, compose_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "docker-compose"
    plain.write_text("#!/bin/sh\n")
    monkeypatch.setenv("SLIPWAY_DOCKER_COMPOSE", str(plain))
    buffer = io.StringIO()
    assert cli.run(["migrate", str(compose_file)], buffer) == cli.EXIT_NO_COMPOSE
    assert f"SLIPWAY_DOCKER_COMPOSE='{plain}': '{plain}' is not an executable file" in (
        buffer.getvalue()
    )
