"""One-shot jobs run at every `up`, as with `docker compose up` (issue 34 item 2; real engine).

Compose starts every stopped container of the project again: a migration that services wait
for (`service_completed_successfully`) runs at each `up`, a job nobody waits for too, and a
job that failed runs again once what it needs is fixed, without a change to its definition.
"""

from __future__ import annotations

import pytest

from tests.support.real_stack import make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILE = """
services:
  migrate:
    image: slipway/base:busybox
    command: ["sh", "-c", "test -e /runs/ready && echo run >> /runs/migrate"]
    volumes: ["./runs:/runs"]
  once:
    image: slipway/base:busybox
    command: ["sh", "-c", "echo run >> /runs/once"]
    volumes: ["./runs:/runs"]
  app:
    image: slipway/base:busybox
    command: ["sleep", "3600"]
    init: true
    depends_on:
      migrate: {condition: service_completed_successfully}
"""


def _runs(stack, job: str) -> int:
    path = stack.work / "runs" / job
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_jobs_run_at_every_up_and_a_failed_one_once_fixed(tmp_path) -> None:
    stack = make_real_stack(tmp_path, compose_file="jobs.yml")
    (stack.work / "jobs.yml").write_text(FILE)
    (stack.work / "runs").mkdir()
    try:
        failed = stack.stack_process("up")
        output = failed.stdout + failed.stderr
        assert failed.returncode != 0, output
        last = failed.stderr.strip().splitlines()[-1]  # one clear last line (item 4)
        assert f"container {stack.container('migrate')} exited with code 1" in last, output
        (stack.work / "runs" / "ready").write_text("")  # fixed; the definition is the same
        for count in (1, 2, 3):
            up = stack.stack_process("up")
            assert up.returncode == 0, up.stdout + up.stderr
            assert _runs(stack, "migrate") == count, up.stdout
        assert _runs(stack, "once") == 4  # the failed up ran it too
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(stack.project)
