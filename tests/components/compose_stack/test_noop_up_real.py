"""A no-change `up` changes nothing, for every `ports` form (issue 34 item 1; real engine).

Compose keeps a container whose definition did not change; Slipway must too: a second `up`
of the same files reports only `same`, and every container keeps its id. A replaced
container restarts its service on every deploy and would be a false alarm for a drift check.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.real_stack import free_port, make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

PORTS = """
services:
  web:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    init: true
    ports:
      - "{p1}:80"
      - "127.0.0.1:{p2}:81"
      - "{p3}:82/udp"
      - "83"
      - target: 84
        published: "{p4}"
        protocol: tcp
"""


def _ids(project: str) -> dict[str, str]:
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"name=^{project}-", "--format", "{{.Names}} {{.ID}}"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return dict(line.split() for line in listed.stdout.splitlines())


def _up_twice(stack) -> tuple[dict, dict, dict]:
    first = stack.stack_process("up")
    assert first.returncode == 0, first.stderr + first.stdout
    before = _ids(stack.project)
    again = stack.stack_process("up")
    assert again.returncode == 0, again.stderr + again.stdout
    return stack.last_json(again)["changes"], before, _ids(stack.project)


def test_a_second_up_of_every_port_form_changes_nothing(tmp_path) -> None:
    stack = make_real_stack(tmp_path, compose_file="ports.yml")
    ports = {f"p{i}": free_port() for i in range(1, 5)}
    (stack.work / "ports.yml").write_text(PORTS.format(**ports))
    try:
        changes, before, after = _up_twice(stack)
        assert set(changes) == {"same"}, f"a no-change up changed something: {changes}"
        assert before == after and before, f"containers replaced: {before} -> {after}"
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)


@pytest.mark.parametrize("compose_file", ["stacks/demo/compose.yml", "stacks/demo/routed.yml"])
def test_a_second_up_of_the_demo_stacks_changes_nothing(tmp_path, compose_file) -> None:
    stack = make_real_stack(tmp_path, compose_file=compose_file)
    try:
        changes, before, after = _up_twice(stack)
        assert set(changes) == {"same"}, f"a no-change up changed something: {changes}"
        assert before == after and before, f"containers replaced: {before} -> {after}"
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
