"""`docker compose -p <project> ps/logs/top/ls` see a Slipway stack (issue 34 item 5).

Compose (2.x and later) lists only containers labelled `com.docker.compose.config-hash`;
Slipway sets it to Compose's own hash of the service (`config --hash`), so the commands
the docs promise work, and a no-change `up` still changes nothing (the hash is stable).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.real_stack import make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
COMPOSE = str(Path(sys.executable).parent / "docker-compose")


def _compose(project: str, *args: str) -> str:
    done = subprocess.run(
        [COMPOSE, "-p", project, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compose_commands_list_the_stack_slipway_deployed(tmp_path) -> None:
    stack = make_real_stack(tmp_path)
    try:
        up = stack.stack_process("up")
        assert up.returncode == 0, up.stdout + up.stderr
        listed = [json.loads(line) for line in _compose(stack.project, "ps", "--format", "json")
                  .splitlines() if line.strip()]  # fmt: skip
        assert sorted(c["Service"] for c in listed) == ["db", "web", "worker"], listed
        assert "PID" in _compose(stack.project, "top", "web")
        _compose(stack.project, "logs", "--tail", "5", "web")
        projects = json.loads(_compose(stack.project, "ls", "--all", "--format", "json"))
        assert stack.project in [p["Name"] for p in projects], projects
        again = stack.stack_process("up")
        assert again.returncode == 0, again.stdout + again.stderr
        assert set(stack.last_json(again)["changes"]) == {"same"}, again.stdout
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
