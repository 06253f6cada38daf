"""`depends_on: condition: service_healthy` on the real engine (components/compose_stack/
health_wait.py): a dependant is created only once its dependency's healthcheck has passed,
and an unhealthy dependency fails the `up` at once, naming it, its dependant never created.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.support.real_stack import docker_inspect, make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILE = """
services:
  slow:
    image: slipway/base:busybox
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]
    init: true
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 30}
  after_slow:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    init: true
    depends_on: {slow: {condition: service_healthy}}
  sick:  # created after after_slow (so the up cannot fail before that one exists)
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    init: true
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
    depends_on: [after_slow]
  after_sick:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    init: true
    depends_on: {sick: {condition: service_healthy}}
"""


def when(text: str) -> datetime:
    """A Docker timestamp (nanoseconds, `Z`) as a datetime."""
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest + '000000')[:6]}+00:00")


def test_dependants_wait_for_healthy_and_an_unhealthy_dependency_fails_the_up(tmp_path):
    stack = make_real_stack(tmp_path, compose_file="health.yml")
    (stack.work / "health.yml").write_text(FILE)
    try:
        up = stack.stack_process("up")
        output = up.stdout + up.stderr
        assert up.returncode != 0, output
        assert f"container {stack.container('sick')} did not become healthy" in output, output
        assert "unhealthy" in output, output
        assert docker_inspect("{{.Name}}", stack.container("after_sick")) == "", output

        log = json.loads(docker_inspect("{{json .State.Health.Log}}", stack.container("slow")))
        first_pass = min(when(entry["End"]) for entry in log if entry["ExitCode"] == 0)
        started = when(docker_inspect("{{.Created}}", stack.container("after_slow")))
        assert started >= first_pass, f"created {started}, healthy at {first_pass}\n{output}"
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
