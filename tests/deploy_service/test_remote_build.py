"""Images are built by the engine of `slipway:dockerHost`, not by the one DOCKER_HOST names.

docs/install.md has the engineer run `pulumi up -s control` on a laptop whose Docker CLI
(DOCKER_HOST, or no engine at all) is not the VPS's engine. The production-path test goes
over ssh to the same engine DOCKER_HOST points at, so it cannot tell the two apart. Here the
stack's engine is a second dockerd (tests/support/second_engine.py) while DOCKER_HOST stays
on the project's engine; a Compose `build:` service must be built there and run there, and
its image must not appear on the project's engine. Compose stacks and the control stack
build through the same arguments (components/compose_stack/images.py, `engine_build`).
The second test reaches that engine over ssh (a private scripts/vps-lab.sh in front of it).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.deploy_service.vps_lab import BUSYBOX, VpsLab
from tests.support.real_stack import make_real_stack
from tests.support.second_engine import SecondEngine

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

COMPOSE = """
services:
  app:
    build:
      context: ./app
      dockerfile: Containerfile
      labels: {io.slipway.test: remote-build}
    command: ["sleep", "3600"]
"""
LABEL = '{{index .Config.Labels "io.slipway.test"}}'
DOCKERFILE = "FROM slipway/base:busybox\nCOPY hello /hello\n"


@pytest.fixture(scope="module")
def engine():
    second = SecondEngine.start()
    try:
        second.load(BUSYBOX)
        yield second
    finally:
        second.stop()


def _deploy_and_check(tmp_path, docker_host: str, engine: SecondEngine, env: dict) -> None:
    stack = make_real_stack(tmp_path, compose_file="remote.yml")
    (stack.work / "remote.yml").write_text(COMPOSE)
    (stack.work / "app").mkdir()
    # A Dockerfile by another name: the builder must find it in the checkout, not the cwd.
    (stack.work / "app" / "Containerfile").write_text(DOCKERFILE)
    (stack.work / "app" / "hello").write_text(f"{stack.project}\n")
    (stack.work / f"Pulumi.{stack.stack}.yaml").write_text(
        "config:\n"
        "  slipway:composeFiles: [remote.yml]\n"
        f"  slipway:composeProject: {stack.project}\n"
        f"  slipway:dockerHost: {docker_host}\n"
    )
    stack.env.update(env)
    local = stack.env["DOCKER_HOST"]
    assert local != docker_host and not local.startswith("ssh://")
    try:
        up = stack.stack_process("up")
        assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
        container = stack.container("app")
        tags = engine.docker("images", "--format", "{{.Tag}}", f"{stack.project}-app").stdout
        assert tags.startswith("ctx-"), f"no ctx-<hash> tag on the stack's engine: {tags!r}"
        used = engine.docker("inspect", "-f", "{{.Image}}", container).stdout.strip()
        built = engine.docker("images", "-q", "--no-trunc", f"{stack.project}-app").stdout.split()
        assert built == [used], f"the container runs {used}, the engine holds {built}"
        label = engine.docker("image", "inspect", "-f", LABEL, used).stdout.strip()
        assert label == "remote-build", f"build.labels did not reach the image: {label!r}"
        running = engine.docker("inspect", "-f", "{{.State.Running}}", container).stdout
        assert running.strip() == "true", engine.docker("logs", container).stderr
        copied = engine.docker("exec", container, "cat", "/hello").stdout
        assert copied.strip() == stack.project
        on_local = subprocess.run(
            ["docker", "images", "-q", f"{stack.project}-app"],
            env={**os.environ, "DOCKER_HOST": local}, capture_output=True, text=True,
            timeout=60, check=True,
        )  # fmt: skip
        assert not on_local.stdout.strip(), f"the image was built on DOCKER_HOST ({local})"
    finally:
        down = stack.pulumi("destroy", "--yes")
        assert down.returncode == 0, down.stderr
        engine.docker("rm", "-f", stack.container("app"))


def test_a_build_runs_on_the_stacks_engine_not_on_docker_host(tmp_path, engine) -> None:
    _deploy_and_check(tmp_path, engine.host, engine, {})


def test_a_build_over_ssh_runs_on_the_remote_engine(tmp_path, tmp_path_factory, engine) -> None:
    base = {**os.environ, "DOCKER_HOST": engine.host}
    lab = VpsLab.start(tmp_path_factory.mktemp("vps-lab-remote"), base=base)
    try:
        # The lab's `ssh` (its keys, known_hosts) on PATH; DOCKER_HOST stays the local engine.
        env = {k: v for k, v in lab.env.items() if k != "DOCKER_HOST"}
        _deploy_and_check(tmp_path, lab.docker_host, engine, env)
    finally:
        stopped = lab.stop()
        assert stopped.returncode == 0, stopped.stderr
