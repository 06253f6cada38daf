"""A no-change `up` changes nothing, for every `ports` form (issue 34 item 1; real engine).

Compose keeps a container whose definition did not change; Slipway must too: a second `up`
of the same files reports only `same`, and every container keeps its id. A replaced
container restarts its service on every deploy and would be a false alarm for a drift check.
Covered: every port form, the demo stacks, and the sample stacks stacks/app.yml and
stacks/monitoring.yml, whose registry images are replaced by STAND-IN images built here
under the same names (nothing can be pulled): see STAND_IN below.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.ports import free_port
from tests.support.real_stack import make_real_stack, remove_project_containers

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


# The sample stacks name registry images that cannot be pulled here. These images are
# STAND-INS built locally under those names: busybox that keeps running whatever command
# the Compose file gives, with `pg_isready`, `python` and `wget` that succeed, so every
# healthcheck passes. They prove what Slipway does with the stacks' definitions (ports,
# volumes, replicas, networks, labels, healthchecks), not what the real images do.
STAND_IN = """FROM slipway/base:busybox
RUN mkdir -p /stand-in/bin && for tool in pg_isready python wget; do \\
      printf '#!/bin/sh\\nexit 0\\n' > /stand-in/bin/$tool; chmod +x /stand-in/bin/$tool; done
ENV PATH=/stand-in/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRYPOINT ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done", "stand-in"]
"""
SAMPLE_IMAGES = {
    "stacks/app.yml": ["ghcr.io/example/shop:latest", "postgres:16-alpine", "caddy:2.8-alpine"],
    "stacks/monitoring.yml": [
        "prom/node-exporter:v1.8.1", "gcr.io/cadvisor/cadvisor:v0.49.1",
        "prom/prometheus:v2.53.0", "grafana/grafana:11.1.0", "prom/blackbox-exporter:v0.25.0",
    ],
}  # fmt: skip


def _build_stand_ins(names: list[str], context) -> None:
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(STAND_IN)
    tags = [arg for name in names for arg in ("-t", name)]
    built = subprocess.run(
        ["docker", "build", "-q", *tags, str(context)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr


@pytest.mark.parametrize("compose_file", sorted(SAMPLE_IMAGES))
def test_a_second_up_of_the_sample_stacks_changes_nothing(tmp_path, compose_file) -> None:
    """stacks/app.yml and stacks/monitoring.yml on stand-in images (see STAND_IN): their
    host ports are moved to free ones, and a bind of a host path that does not exist here
    (the Docker socket cadvisor reads) points at a folder of the test."""
    _build_stand_ins(SAMPLE_IMAGES[compose_file], tmp_path / "stand-in")
    stack = make_real_stack(tmp_path, compose_file=compose_file)
    path = stack.work / compose_file
    text = path.read_text()
    for published in ("80:80", "443:443", "127.0.0.1:9090:9090", "127.0.0.1:3000:3000"):
        parts = published.split(":")
        parts[-2] = str(free_port())
        text = text.replace(f'"{published}"', '"' + ":".join(parts) + '"')
    (tmp_path / "run").mkdir()
    text = text.replace("- /var/run/docker.sock:", f"- {tmp_path / 'run'}:")
    path.write_text(text)
    try:
        changes, before, after = _up_twice(stack)
        assert set(changes) == {"same"}, f"a no-change up changed something: {changes}"
        assert before == after and before, f"containers replaced: {before} -> {after}"
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
