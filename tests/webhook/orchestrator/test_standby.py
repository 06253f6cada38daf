"""Standby stack children (webhook/runners/standby.py, automation.py `Spares`): the next
operation of a stack runs in the child started ahead of time when its environment fits
(the variables set late, per `up`, aside), else in a fresh child, and the unused one ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.real_stack import REPO_ROOT
from webhook.runners.automation import AutomationSession, Spares
from webhook.runners.base import RunnerError
from webhook.runners.standby import LATE_ENV, Standby

STACK = "standby"


@pytest.fixture
def session(tmp_path: Path) -> AutomationSession:
    """A session whose operations fail at once: no Pulumi CLI on its PATH."""
    env = {**os.environ, "PATH": "/usr/bin:/bin", "PULUMI_BACKEND_URL": f"file://{tmp_path}"}
    return AutomationSession(stack=STACK, work_dir=tmp_path, env=env)


def reply(session: AutomationSession) -> str:
    with pytest.raises(RunnerError) as failed:
        session.run("tag", "--key", "k", "--value", "v")
    return str(failed.value)


def test_the_next_operation_runs_in_the_standby(session: AutomationSession) -> None:
    fresh = reply(session)
    assert "pulumi" in fresh  # the CLI is missing: the child says so
    session.prepare_next()
    spare = session.spares.waiting(STACK)
    assert spare is not None
    late = session.with_env({LATE_ENV[0]: "/a/render.json"})  # set per `up`: still fits
    assert reply(late) == fresh
    assert session.spares.waiting(STACK) is None
    assert spare.process.wait(30) == 2, "the standby did not run the operation"
    spare.expiry.join(30)  # its idle timer was cancelled when it was taken
    assert not spare.expiry.is_alive()


def test_a_standby_of_another_environment_is_ended_not_used(
    session: AutomationSession,
) -> None:
    session.prepare_next()
    spare = session.spares.waiting(STACK)
    other = session.with_env({"OTHER_VARIABLE": "1"})
    assert "pulumi" in reply(other)
    assert spare.process.wait(30) == 0, "a standby of another environment ran the operation"
    assert session.spares.waiting(STACK) is None


def test_an_unused_standby_ends() -> None:
    started: list[Standby] = []

    def start() -> Standby:
        command = [sys.executable, "-m", "webhook.runners.standby"]
        started.append(Standby.start(command, REPO_ROOT, os.environ))
        return started[-1]

    spares = Spares(idle_seconds=0.0)
    spares.keep(STACK, start)
    assert started[0].process.wait(30) == 0  # ended by its idle timer through EOF
    assert spares.waiting(STACK) is None


def test_the_standby_takes_the_environment_and_arguments_it_is_handed() -> None:
    probe = (
        "import os, sys; from webhook.runners import stack_process, standby; "
        "stack_process.main = lambda argv: print(os.environ.get('LATE'), argv) or 0; "
        "standby.main()"
    )
    order = {"argv": ["tag", "--stack", "s"], "env": {**os.environ, "LATE": "given"}}
    done = subprocess.run(
        [sys.executable, "-c", probe], input=json.dumps(order) + "\n", cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "given ['tag', '--stack', 's']", done.stderr


FAKE_PYTHON = """#!/bin/sh
# $1 is -m, $2 the module: the standby marks that it started; the stack child says one
# line, then reports whether a standby had started meanwhile (waits for it, bounded).
if [ "$2" = webhook.runners.standby ]; then
    touch "{marker}"; read -r order; exit 0
fi
echo '{{"output": "Updating (stack):"}}'
for _ in $(seq 100); do [ -e "{marker}" ] && break; sleep 0.05; done
if [ -e "{marker}" ]; then seen=true; else seen=false; fi
echo "{{\\"result\\": {{\\"outputs\\": {{\\"standby\\": $seen}}}}}}"
"""


def test_the_standby_for_what_follows_an_up_starts_during_it(tmp_path: Path) -> None:
    marker = tmp_path / "standby-started"
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON.format(marker=marker))
    fake.chmod(0o755)
    session = AutomationSession(stack=STACK, work_dir=tmp_path, env=dict(os.environ))
    session.python = str(fake)
    lines: list[str] = []
    outputs = session.up("m", lines.append)
    assert lines == ["Updating (stack):"]
    assert outputs == {"standby": True}, "no standby was started while the up ran"
    assert session.spares.waiting(STACK) is not None
    session.spares.close()
