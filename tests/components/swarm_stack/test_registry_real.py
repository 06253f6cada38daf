"""`build:` on the 3-node lab Swarm: built once, pushed to a real registry, run by digest.

The demo stack (stacks/demo with stacks/demo/swarm.yml) builds all three services. With
`slipway:registry` set to a real registry (scripts/registry.sh: distribution's server built
from Go modules, on the lab bridge's address), the manager builds each image once and pushes
it; every service's spec names `repository:ctx-<hash>@sha256:<digest>`, the digest the
registry holds, and every node's task runs that very image (the workers pulled it, never
built it). A second `up` with no change changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.git import git
from tests.support.paths import REPO_ROOT
from tests.support.real_stack import RealStack, pulumi_env
from tests.support.swarm.lab import SwarmLab

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.docker_engine,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]
SERVICES = ("db", "web", "worker")
MANIFESTS = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


@pytest.fixture(scope="module")
def lab_registry(swarm_lab: SwarmLab) -> Iterator[str]:
    """scripts/registry.sh on the lab bridge's address (every node reaches it); its URL."""
    listen = f"10.{swarm_lab.env['SLIPWAY_SWARM_LAB_NET']}.0.1:5000"
    script = ["bash", str(REPO_ROOT / "scripts" / "registry.sh")]
    started = subprocess.run(
        [*script, "start", listen], capture_output=True, text=True, timeout=900, check=False
    )
    try:
        assert started.returncode == 0, f"registry.sh start failed:\n{started.stderr}"
        yield f"http://{listen}"
    finally:
        subprocess.run([*script, "stop", listen], capture_output=True, timeout=60, check=False)


def _demo_stack(tmp_path: Path, lab: SwarmLab, registry: str, port: int) -> RealStack:
    """A copy of the program and the demo in a git repository, with a Swarm stack config."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO_ROOT / name, work / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "components", work / "components", ignore=ignore)
    shutil.copytree(REPO_ROOT / "stacks" / "demo", work / "stacks" / "demo", ignore=ignore)
    # As in the repository: a Dockerfile at the top that no demo service builds (a relative
    # `dockerfile` read from the working directory would build it).
    (work / "Dockerfile").write_text("FROM slipway/not-a-demo-image\n")
    suffix = uuid.uuid4().hex[:8]
    stack, project = f"r{suffix}", f"slipway-r{suffix}"
    (work / f"Pulumi.{stack}.yaml").write_text(
        "config:\n"
        "  slipway:composeFiles:\n    - stacks/demo/compose.yml\n    - stacks/demo/swarm.yml\n"
        f"  slipway:composeProject: {project}\n"
        "  slipway:target: swarm\n"
        f"  slipway:dockerHost: {lab.manager}\n"
        f"  slipway:registry: {registry}\n"
        "  slipway:healthChecks:\n"
        f"    - url: http://{lab.addrs[0]}:{port}/cgi-bin/healthz\n"
        "      status: 200\n"
        "      timeoutSeconds: 2\n"
    )
    git(work, "init", "-q", "-b", "main")
    git(work, "-c", "user.email=t@slipway.test", "-c", "user.name=t", "add", "-A")
    git(work, "-c", "user.email=t@slipway.test", "-c", "user.name=t", "commit", "-qm", "demo")
    env = {**os.environ, **pulumi_env(tmp_path / "backend"), "DEMO_SWARM_PORT": str(port)}
    return RealStack(work=work, stack=stack, project=project, port=port, env=env)


def _up(stack: RealStack, *args: str) -> dict:
    done = stack.stack_process("up", *args, timeout=800)
    assert done.returncode == 0, done.stderr[-6000:] + done.stdout[-6000:]
    return stack.last_json(done)


def _registry_digest(registry: str, repository: str, tag: str) -> str:
    """The manifest digest the registry serves for `repository:tag`."""
    answer = httpx.head(
        f"{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFESTS}, timeout=10
    )
    assert answer.status_code == 200, f"{repository}:{tag} is not in the registry: {answer}"
    return answer.headers["Docker-Content-Digest"]


def _task_images(lab: SwarmLab, service: str) -> dict[str, tuple[str, list[str]]]:
    """Node hostname → (image id, repo digests) of the container each running task runs,
    as that node's own engine reports it."""
    ids = lab.docker("service", "ps", "-q", "--filter", "desired-state=running", service)
    found = {}
    for task_id in ids.stdout.split():
        task = json.loads(lab.docker("inspect", task_id).stdout)[0]
        if (task.get("Status") or {}).get("State") != "running":
            continue
        node = lab.docker(
            "node", "inspect", task["NodeID"], "--format", "{{.Description.Hostname}}"
        )
        hostname = node.stdout.strip()
        index = int(hostname.rsplit("-n", 1)[1]) - 1
        container = task["Status"]["ContainerStatus"]["ContainerID"]
        image_id = lab.docker("inspect", container, "--format", "{{.Image}}", node=index)
        digests = lab.docker(
            "image", "inspect", image_id.stdout.strip(), "--format", "{{json .RepoDigests}}",
            node=index,
        )  # fmt: skip
        found[hostname] = (image_id.stdout.strip(), json.loads(digests.stdout))
    return found


def _tags(lab: SwarmLab, node: int) -> set[str]:
    done = lab.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", node=node)
    return set(done.stdout.split())


def test_built_once_pushed_and_every_node_runs_the_same_digest(
    swarm_lab: SwarmLab, lab_registry: str, tmp_path: Path
) -> None:
    # A host port of its own: the lab is shared by the session (node-loss holds 18183).
    stack = _demo_stack(tmp_path, swarm_lab, lab_registry, port=18184)
    summary = _up(stack, "--check-health")
    assert summary["health"]["healthy"] is True, summary
    host = lab_registry.removeprefix("http://")
    lab_name = swarm_lab.env["SLIPWAY_SWARM_LAB_NAME"]
    pinned = re.compile(
        rf"{re.escape(host)}/{stack.project}-(\w+):(ctx-[0-9a-f]{{12}})@(sha256:[0-9a-f]{{64}})"
    )
    for service in SERVICES:
        name = f"{stack.project}_{service}"
        spec = swarm_lab.docker(
            "service", "inspect", name, "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"
        ).stdout.strip()
        match = pinned.fullmatch(spec)
        assert match and match[1] == service, f"{name} is not deployed by digest: {spec!r}"
        tag, digest = match[2], match[3]
        # Pinned by Slipway, not resolved by the provider at create time (which would leave
        # the declared tag and make every later `up` an update): the wait asked for it.
        assert spec in summary["outputs"]["converged"][service], summary["outputs"]
        repository = f"{stack.project}-{service}"
        assert _registry_digest(lab_registry, repository, tag) == digest
        tasks = _task_images(swarm_lab, name)
        assert tasks, f"{name} runs no task"
        assert len({image_id for image_id, _ in tasks.values()}) == 1, tasks  # the same bits
        for hostname, (_, digests) in tasks.items():
            assert f"{host}/{repository}@{digest}" in digests, (hostname, digests)
        if service == "web":  # global: one task per node, on all three
            assert sorted(tasks) == [f"{lab_name}-n{i}" for i in (1, 2, 3)], tasks
        # Built once, on the manager: its engine has the tag; the workers only pulled.
        assert f"{host}/{repository}:{tag}" in _tags(swarm_lab, 0)
        for worker in (1, 2):
            assert f"{host}/{repository}:{tag}" not in _tags(swarm_lab, worker)

    again = _up(stack)
    assert set(again["changes"]) == {"same"}, f"a second up changed something: {again}"
