"""`python -m components.compose migrate` as a user runs it: plain-text messages, the same
in a terminal, a CI log and a pipe, each naming the problem and the fix, with its exit code."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from components.compose import cli
from tests.support.cli_runs import run_cli, run_everywhere

from .test_cli import BASE

# Runs the real entry point with the planner's nested merge dropped (a result that differs).
BROKEN_PLANNER = (
    "import sys; from components.compose.migration_plan import Planner; "
    "Planner._insert_merge = lambda self, node, anchor: None; "
    "from components.compose.cli import run; sys.exit(run())"
)


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
    runs = run_everywhere(argv, env)
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
    pipe, terminal = run_cli(argv, {}), run_cli(argv, {}, terminal=True)
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
