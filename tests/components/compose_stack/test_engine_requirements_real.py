"""A key the engine is too old for is refused before anything exists (issue 34 item 3).

The engine under test speaks API 1.41 (Docker 20.10): `start_interval` needs 1.44 and
`volume.nocopy` 1.45. Before the check, `up` created the services before the first such
container and then failed on it ("Subpath" for nocopy).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.real_stack import make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILE = """
services:
  first:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
  late:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    depends_on: [first]
{late}
volumes:
  data:
"""
START_INTERVAL = """    healthcheck:
      test: ["CMD", "true"]
      start_period: 5s
      start_interval: 1s
"""
NOCOPY = """    volumes:
      - type: volume
        source: data
        target: /data
        volume: {nocopy: true}
"""


def _engine_api() -> tuple[int, int]:
    text = subprocess.run(
        ["docker", "version", "--format", "{{.Server.APIVersion}}"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    major, minor = text.strip().split(".")
    return int(major), int(minor)


@pytest.mark.parametrize(
    ("late", "key", "needed"),
    [(START_INTERVAL, "healthcheck.start_interval", (1, 44)), (NOCOPY, "volume.nocopy", (1, 45))],
    ids=["start_interval", "nocopy"],
)
def test_up_on_an_older_engine_refuses_the_key_before_creating_anything(
    tmp_path, late, key, needed
) -> None:
    if _engine_api() >= needed:
        pytest.skip(f"this engine is new enough for {key}")
    stack = make_real_stack(tmp_path, compose_file="old-engine.yml")
    (stack.work / "old-engine.yml").write_text(FILE.format(late=late))
    try:
        up = stack.stack_process("up")
        output = up.stdout + up.stderr
        assert up.returncode != 0, output
        last = up.stderr.strip().splitlines()[-1]  # one clear last line (item 4)
        assert f"`{key}` needs Docker" in last and "upgrade Docker" in last, output
        made = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name=^{stack.project}-"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.split()  # fmt: skip
        assert made == [], f"containers created before the refusal: {made}\n{output}"
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
