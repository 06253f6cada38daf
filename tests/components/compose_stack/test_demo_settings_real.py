"""The demo's port and project come from DEMO_WEB_PORT and DEMO_PROJECT (issue 34; real).

Pulumi.dev.yaml fixed `slipway-dev` and port 8080, so two people on one host collided.
Its `composeProject` and health URL now read `${DEMO_PROJECT:-slipway-dev}` and
`${DEMO_WEB_PORT:-8080}`, interpolated from the environment as Compose does (docs in
README.md and docs/toolchain.md).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from components.config import expand_variables
from tests.support.ports import free_port
from tests.support.real_stack import (
    docker_inspect,
    make_real_stack,
    remove_project_containers,
    repository_stack_config,
)

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]


def test_variables_expand_as_compose_does() -> None:
    env = {"DEMO_WEB_PORT": "8181", "EMPTY": ""}
    assert expand_variables("http://x:${DEMO_WEB_PORT:-8080}/", env) == "http://x:8181/"
    assert expand_variables("${DEMO_PROJECT:-slipway-dev}", env) == "slipway-dev"
    assert expand_variables("${EMPTY:-fallback}", env) == "fallback"
    assert expand_variables("no variables", env) == "no variables"


def test_the_dev_stack_takes_its_project_and_port_from_the_environment(tmp_path) -> None:
    stack = make_real_stack(tmp_path)
    (stack.work / f"Pulumi.{stack.stack}.yaml").write_text(repository_stack_config("dev"))
    project, port = f"slipway-u{uuid.uuid4().hex[:8]}", free_port()
    stack.env.update(DEMO_PROJECT=project, DEMO_WEB_PORT=str(port))
    try:
        up = stack.stack_process("up", "--check-health")
        assert up.returncode == 0, up.stderr + up.stdout
        assert docker_inspect("{{.State.Running}}", f"{project}-web-1") == "true", up.stdout
        assert httpx.get(f"http://127.0.0.1:{port}/cgi-bin/healthz", timeout=5).status_code == 200
    finally:
        stack.pulumi("destroy", "--yes")
        remove_project_containers(project)
