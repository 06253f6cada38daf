"""`make up` skips `pulumi up` only when nothing changed (scripts/up.sh, real CLI and engine).

One stack goes through the cases in order, each ending healthy: a first `make up` (full),
a second (unchanged: the CLI only asked its version), a stopped container, a changed Compose file,
a state written by another `pulumi` run, FORCE=1 (each a full `up` that says why).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.real_stack import RealStack

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]


def _up(stack: RealStack, **env: str) -> str:
    result = stack.up_script(**env)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_make_up_skips_up_only_when_nothing_changed(real_stack: RealStack, tmp_path) -> None:
    healthy = f"make up: stack '{real_stack.stack}' "
    first = _up(real_stack)
    assert "make up: full up: no healthy `make up` of this stack is recorded here" in first
    assert f"{healthy}deployed and healthy" in first

    cli_log = tmp_path / "cli.log"
    real_stack.log_cli_commands(cli_log)
    second = _up(real_stack)
    assert f"{healthy}unchanged and healthy. It answers at: {real_stack.health_url}" in second
    ran = cli_log.read_text().splitlines() if cli_log.exists() else []
    assert set(ran) <= {"version"}, f"the CLI ran more than its version (fingerprint): {ran}"

    subprocess.run(["docker", "stop", "-t", "1", real_stack.container("worker")],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    stopped = _up(real_stack)
    worker = real_stack.container("worker")
    assert f"make up: full up: container {worker} is exited, was running" in stopped
    assert f"{healthy}deployed and healthy" in stopped

    compose = real_stack.work / "stacks" / "demo" / "compose.yml"
    compose.write_text(compose.read_text().replace("RELEASE: ${DEMO_RELEASE:-dev}", "RELEASE: b"))
    edited = _up(real_stack)
    assert "make up: full up: the rendered stack changed: compose model" in edited

    assert real_stack.pulumi("refresh", "--yes").returncode == 0
    refreshed = _up(real_stack)
    assert "make up: full up: the stack's state was written since" in refreshed

    forced = _up(real_stack, FORCE="1")
    assert "make up: full up: FORCE is set" in forced and f"{healthy}deployed" in forced
    assert f"{healthy}unchanged and healthy" in _up(real_stack)
