"""Run a command line as a user would: on a pipe, on a pseudo-terminal, or as in a CI log."""

from __future__ import annotations

import os
import pty
import subprocess

from tests.support.paths import REPO_ROOT

# What CI logs look like to a program: not a terminal, but colour asked for.
CI_ENV = {"CI": "true", "GITHUB_ACTIONS": "true", "FORCE_COLOR": "1", "TERM": "xterm-256color"}


def run_cli(argv: list[str], env: dict[str, str], terminal: bool = False) -> tuple[int, str]:
    """Exit code and stdout+stderr merged; `terminal` puts both on a pseudo-terminal."""
    env = {**os.environ, **env}
    if not terminal:
        done = subprocess.run(
            argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        return done.returncode, done.stdout.decode()
    parent, child = pty.openpty()
    process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=child, stderr=child)
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


def run_everywhere(argv: list[str], env: dict[str, str]) -> dict[str, tuple[int, str]]:
    """The same command on a pipe, a terminal and in a CI log."""
    return {
        "pipe": run_cli(argv, env),
        "terminal": run_cli(argv, env, terminal=True),
        "ci-log": run_cli(argv, {**env, **CI_ENV}),
    }
