"""Helpers for tests on the real parts: a copy of the project, its own stack and backend.

Each test deploys the demo stack (stacks/demo) under a Compose project name of its own, on
a free loopback port and a throw-away file backend, so tests never touch `make up`'s `dev`
stack or each other. Everything runs with the toolchain `make test` put on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port
from webhook.runners.summary import last_summary

_NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "var", ".pulumi-state", "bench", "tests", "docs", "__pycache__"
)


@dataclass
class RealStack:
    """A stack of the demo app in a copy of the project (`work`) with its own backend."""

    work: Path
    stack: str
    project: str
    port: int
    env: dict[str, str]

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/healthz"

    def container(self, service: str) -> str:
        return f"{self.project}-{service}-1"

    def stack_process(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """`python -m webhook.runners.stack_process ARGS --stack STACK` in the copy."""
        return subprocess.run(
            [sys.executable, "-m", "webhook.runners.stack_process", *args, "--stack", self.stack,
             "--work-dir", str(self.work)],
            cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def up_script(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """`make up`'s scripts/up.sh STACK ARGS in the copy, with this checkout's .venv and
        `env` added. up.sh generates the backend's passphrase; later CLI runs of the test
        (its `pulumi destroy`) use that one, not the tests' own."""
        venv = self.work / ".venv"
        if not venv.is_symlink():
            venv.symlink_to(Path(sys.prefix), target_is_directory=True)
        run_env = {k: v for k, v in self.env.items() if k != "PULUMI_CONFIG_PASSPHRASE"}
        result = subprocess.run(
            ["bash", "scripts/up.sh", self.stack, *args],
            cwd=self.work, env={**run_env, **env}, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        backend = Path(self.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
        self.env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        self.env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(backend / ".passphrase")
        return result

    def pulumi(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """The Pulumi CLI itself on this stack (no program: refresh, destroy, outputs, ...)."""
        return subprocess.run(
            ["pulumi", *args, "--stack", self.stack, "--non-interactive"],
            cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def log_cli_commands(self, log: Path) -> None:
        """From now on, the real `pulumi` is reached through a wrapper that appends each
        command line to `log` (which commands a run made, not what they did)."""
        wrapper = log.parent / "cli-wrapper"
        wrapper.mkdir(parents=True, exist_ok=True)
        real = shutil.which("pulumi", path=self.env.get("PATH"))
        assert real, "the Pulumi CLI is not on PATH"
        script = wrapper / "pulumi"
        script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
        script.chmod(0o755)
        self.env["PATH"] = f"{wrapper}{os.pathsep}{self.env.get('PATH', '')}"

    def last_json(self, result: subprocess.CompletedProcess) -> dict:
        """The JSON summary that `stack_process --protocol text` prints last."""
        return last_summary(result.stdout)


def pulumi_env(backend: Path) -> dict[str, str]:
    """The variables a test's Pulumi runs need: a new file backend at `backend`, a
    passphrase for its secrets, nothing fetched or checked online."""
    backend.mkdir(parents=True, exist_ok=True)
    return {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "test-only-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }


def make_real_stack(tmp_path: Path, compose_file: str = "stacks/demo/compose.yml") -> RealStack:
    """Copy the project into `tmp_path/work`, give it a stack config of its own."""
    work = tmp_path / "work"
    shutil.copytree(REPO_ROOT, work, ignore=_NOT_COPIED)
    suffix = uuid.uuid4().hex[:8]
    stack, project, port = f"t{suffix}", f"slipway-t{suffix}", free_port()
    (work / f"Pulumi.{stack}.yaml").write_text(
        "config:\n"
        f"  slipway:composeFiles:\n    - {compose_file}\n"
        f"  slipway:composeProject: {project}\n"
        "  slipway:healthChecks:\n"
        f"    - url: http://127.0.0.1:{port}/cgi-bin/healthz\n"
        "      status: 200\n"
        "      timeoutSeconds: 3\n"
    )
    env = {**os.environ, **pulumi_env(tmp_path / "backend"), "DEMO_WEB_PORT": str(port)}
    return RealStack(work=work, stack=stack, project=project, port=port, env=env)


def docker_inspect(template: str, name: str) -> str:
    """`docker inspect -f TEMPLATE NAME`, or "" when there is no such object."""
    result = subprocess.run(
        ["docker", "inspect", "-f", template, name],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return result.stdout.strip() if result.returncode == 0 else ""


def remove_project_containers(project: str) -> None:
    """Best-effort cleanup of everything a test's Compose project left on the engine."""
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^{project}-"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    ids = listed.stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-fv", *ids], capture_output=True, timeout=60, check=False)


@contextmanager
def project_network(prefix: str) -> Iterator[str]:
    """A fresh Compose-style project name with its `<name>_default` network on the engine;
    its containers and the network are removed afterwards."""
    name = f"slipway-{prefix}{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "network", "create", f"{name}_default"], capture_output=True,
                   timeout=60, check=True)  # fmt: skip
    try:
        yield name
    finally:
        remove_project_containers(name)
        subprocess.run(["docker", "network", "rm", f"{name}_default"], capture_output=True,
                       timeout=60, check=False)  # fmt: skip


def repository_stack_config(name: str) -> str:
    """The checkout's Pulumi.<name>.yaml without its `encryptionsalt`: `make up` writes the
    salt of its own backend's passphrase there, which a stack on another backend cannot use
    ("incorrect passphrase")."""
    text = (REPO_ROOT / f"Pulumi.{name}.yaml").read_text()
    return "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("encryptionsalt:")
    )
