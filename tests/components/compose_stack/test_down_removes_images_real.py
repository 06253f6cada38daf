"""`make down` leaves no image tag of the stack behind (issue 34; real engine).

Built images are `keep_locally` (a rollback finds its image still tagged), so a destroy
left every `<project>-<service>:ctx-…` tag of every commit ever deployed. `make down`
(scripts/up.sh STACK --destroy) now removes them after the destroy.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.real_stack import REPO_ROOT, make_real_stack, remove_project_containers

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]


def _tags(project: str) -> list[str]:
    listed = subprocess.run(
        ["docker", "images", "--filter", f"reference={project}-*", "--format",
         "{{.Repository}}:{{.Tag}}"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return listed.stdout.split()


def test_make_down_removes_the_stacks_image_tags(tmp_path) -> None:
    stack = make_real_stack(tmp_path)
    (stack.work / ".venv").symlink_to(REPO_ROOT / ".venv")
    try:
        up = stack.stack_process("up")
        assert up.returncode == 0, up.stderr + up.stdout
        assert _tags(stack.project), "the demo's images were not built under the project"
        down = subprocess.run(
            ["bash", "scripts/up.sh", stack.stack, "--destroy"], cwd=stack.work, env=stack.env,
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert down.returncode == 0, down.stderr + down.stdout
        assert _tags(stack.project) == [], down.stdout
    finally:
        remove_project_containers(stack.project)
        for tag in _tags(stack.project):
            subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=60, check=False)
