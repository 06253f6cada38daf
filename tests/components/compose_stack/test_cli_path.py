"""The `dev` stack from the bare Pulumi CLI: preview, up, refresh and destroy.

Nothing of Slipway's own runs here: `pulumi` starts the toolchain's Python language host
(`pulumi-language-python`, docs/toolchain.md), which must find the project's virtualenv
from Pulumi.yaml alone, as in an engineer's shell where no virtualenv is activated. The
stack is `dev` with the repository's Pulumi.dev.yaml, in a copy of the project on a
throw-away file backend; only its Compose project name and web port are made unique, so a
developer's own `make up` of `dev` is never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.real_stack import (
    REPO_ROOT,
    docker_inspect,
    make_real_stack,
    pulumi_env,
    remove_project_containers,
    repository_stack_config,
)

SERVICES = ("db", "web", "worker")
GO_MODS = {  # the CLI's and the language host's wrapper modules
    name: REPO_ROOT / name / "go.mod" for name in ("toolchain/pulumi", "toolchain/language-python")
}


class BareCli:
    """`pulumi ... --stack dev` in a copy of the project, with only the toolchain on PATH."""

    def __init__(self, work: Path, backend: Path, extra_env: dict[str, str]) -> None:
        self.work = work
        cli = shutil.which("pulumi")
        assert cli, "the Pulumi CLI is not on PATH"
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        # The toolchain's folder (pulumi and its language host) and the system's, no venv.
        env["PATH"] = os.pathsep.join([str(Path(cli).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        self.env = {**env, **pulumi_env(backend), **extra_env}

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pulumi", *args, "--stack", "dev", "--non-interactive"],
            cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip


def transcript(result: subprocess.CompletedProcess) -> str:
    """What the CLI said, for an assertion message."""
    return f"`{' '.join(result.args)}` exited {result.returncode}\n{result.stdout}\n{result.stderr}"


def dev_copy(tmp_path: Path, with_venv: bool = True) -> tuple[Path, str, int]:
    """A copy of the project whose `dev` stack is the repository's, made unique (see above)."""
    stack = make_real_stack(tmp_path)
    (stack.work / f"Pulumi.{stack.stack}.yaml").unlink()
    text = repository_stack_config("dev")
    for old, new in (
        (
            "slipway:composeProject: ${DEMO_PROJECT:-slipway-dev}\n",
            f"slipway:composeProject: {stack.project}\n",
        ),
        ("http://127.0.0.1:${DEMO_WEB_PORT:-8080}/", f"http://127.0.0.1:{stack.port}/"),
    ):
        assert text.count(old) == 1, f"Pulumi.dev.yaml no longer has {old!r}: update this test"
        text = text.replace(old, new)
    (stack.work / "Pulumi.dev.yaml").write_text(text)
    if with_venv:  # Pulumi.yaml names `.venv`: this checkout's
        (stack.work / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return stack.work, stack.project, stack.port


def test_the_language_host_is_built_on_the_clis_sdk() -> None:
    """The host speaks the protocol of the sdk/v3 it is built on: it must be the CLI's."""
    found = {
        who: re.findall(r"github\.com/pulumi/pulumi/sdk/v3 (v\S+)", path.read_text())
        for who, path in GO_MODS.items()
    }
    assert len({tuple(versions) for versions in found.values()}) == 1, (
        f"sdk/v3 differs: {found}; bump toolchain/language-python with the CLI "
        "(cd toolchain/language-python && go get github.com/pulumi/pulumi/sdk/v3@vX.Y.Z)"
    )


@pytest.mark.pulumi_cli
@pytest.mark.slow
@pytest.mark.docker_engine
def test_preview_up_refresh_destroy_of_dev_from_the_bare_cli(tmp_path: Path) -> None:
    work, project, port = dev_copy(tmp_path)
    pulumi = BareCli(work, tmp_path / "backend", {"DEMO_WEB_PORT": str(port)})
    containers = {service: f"{project}-{service}-1" for service in SERVICES}
    try:
        init = pulumi("stack", "init")
        assert init.returncode == 0, transcript(init)

        preview = pulumi("preview", "--diff")
        assert preview.returncode == 0, transcript(preview)
        for name in containers.values():
            assert name in preview.stdout, f"{name} is not in the preview\n" + transcript(preview)
        took_from_path = "using pulumi-language-python from $PATH"
        assert took_from_path not in preview.stdout + preview.stderr, (
            "the CLI took a language host from PATH, not the toolchain's own\n"
            + transcript(preview)
        )
        assert docker_inspect("{{.Name}}", containers["web"]) == "", "preview created a container"

        up = pulumi("up", "--yes", "--skip-preview")
        assert up.returncode == 0, transcript(up)
        for service, name in containers.items():
            assert docker_inspect("{{.State.Running}}", name) == "true", (
                f"{service} is not running after up\n" + transcript(up)
            )
        answer = _wait_healthy(port)
        assert answer.status_code == 200 and "ok release=dev" in answer.text, transcript(up)
        outputs = pulumi("stack", "output", "--json")
        assert json.loads(outputs.stdout)["services"] == containers, transcript(outputs)

        # The engine is the truth: a container removed behind Pulumi's back leaves the state
        # on refresh, which runs the program through the language host again.
        subprocess.run(["docker", "rm", "-f", containers["worker"]], check=True,
                       capture_output=True, timeout=60)  # fmt: skip
        refresh = pulumi("refresh", "--yes", "--skip-preview", "--run-program")
        assert refresh.returncode == 0, transcript(refresh)
        assert "1 deleted" in refresh.stdout, transcript(refresh)
        state = json.loads(pulumi("stack", "export").stdout)
        named = {r.get("outputs", {}).get("name") for r in state["deployment"]["resources"]}
        assert containers["worker"] not in named and containers["web"] in named, transcript(refresh)

        destroy = pulumi("destroy", "--yes", "--skip-preview", "--run-program")
        assert destroy.returncode == 0, transcript(destroy)
        for name in (*containers.values(), f"{project}_db-data"):
            left = docker_inspect("{{.Name}}", name)
            assert left == "", f"{name} outlived destroy\n" + transcript(destroy)
    finally:
        pulumi("destroy", "--yes", "--skip-preview")
        remove_project_containers(project)


@pytest.mark.pulumi_cli
def test_a_missing_virtualenv_is_named_with_its_fix(tmp_path: Path) -> None:
    work, _, _ = dev_copy(tmp_path, with_venv=False)
    pulumi = BareCli(work, tmp_path / "backend", {})
    assert pulumi("stack", "init").returncode == 0
    preview = pulumi("preview")
    said = preview.stdout + preview.stderr
    assert preview.returncode != 0, transcript(preview)
    assert "'virtualenv' option in Pulumi.yaml is set to \".venv\"" in said, transcript(preview)
    assert f'"{work / ".venv"}" doesn\'t exist' in said, transcript(preview)


def _wait_healthy(port: int) -> httpx.Response:
    """web's health URL, asked until it answers (Compose's healthcheck has the same bound)."""
    url = f"http://127.0.0.1:{port}/cgi-bin/healthz"
    answer: httpx.Response | None = None
    for _ in range(30):
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        subprocess.run(["sleep", "1"], check=True)
    assert answer is not None, f"{url} never answered"
    return answer
