"""Slipway on Swarm deploys what `docker stack deploy` deploys, on the 3-node lab.

1. Every migrated sample (stacks/*.yml, stacks/demo, and each entry of the real-world
   corpus after the migration to anchors) goes to `docker stack deploy`: the ones Swarm can
   run deploy (exit 0, every service created); every other one is refused by stack deploy
   itself for a reason listed in REFUSED (a new kind of refusal fails the test).
2. The representative case (tests/support/swarm/cases/equivalence.yml: every part of a service
   Slipway translates, shared through anchors) is deployed by both, and each service's
   `docker service inspect` is compared field by field: every difference is in ALLOWED,
   each documented in docs/swarm.md ("Differences from docker stack deploy").
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dotenv import dotenv_values

from components.compose.docker_compose import compose_config
from components.compose.migrate import Project, migrate
from tests.support.fidelity.diff import diff, flatten
from tests.support.paths import CORPUS_DIR, REPO_ROOT
from tests.support.ports import free_port
from tests.support.swarm import equivalence as eq

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.docker_engine,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]
SAMPLES = ["app.yml", "monitoring.yml", "demo/compose.yml", "demo/routed.yml"]

# What `docker stack deploy` (Docker CLI 28) answers for a file it refuses (a regular
# expression) → why Swarm cannot run it. Each refused sample must match one of these.
REFUSED = {
    "depends_on must be a list": "`depends_on` with conditions (Swarm starts services in no order)",
    "unsupported Compose file version: 2": "a `version: 2.x` file (stack deploy reads 3.x only)",
    "Set resource limits using deploy.resources": "one engine's limits (`mem_limit`, ...)",
    "To share a volume between services": "`volumes_from`",
    "no image specified": "`build:` without `image:` (Swarm nodes pull, they cannot build)",
    "Additional property name is not allowed": "top-level `name` (not in the 3.x schema)",
    "limits.cpus must be a string": "`deploy.resources.limits.cpus` as a number",
    "Additional property device_cgroup_rules": "`device_cgroup_rules`",
    "must be a string, number or null": "a boolean `environment` value",
    r"env_file\.\d+ must be a string": "`env_file` with `path`/`required` (long syntax)",
}  # fmt: skip
# The samples stack deploy accepts today (a change either way must be looked at).
ACCEPTED = {
    "stacks:monitoring.yml",
    "compose-go-testdata:loader/testdata/extends/reset.yaml",
    "compose-go-testdata:loader/testdata/extends/withdir/compose.yaml",
    "posthog:docker-compose.dev-minimal.yml",
    "pycroft:docker-compose.prod.yml",
}

# (service or "*", dotted path) → why it differs by design; docs/swarm.md says the same.
ALLOWED = {
    ("*", "UpdateConfig.Order"): "Slipway's default: start-first where two tasks may run",
    ("*", "RollbackConfig.Order"): "follows Slipway's update order",
    ("*", "UpdateConfig.FailureAction"): "Slipway's default: rollback (stack deploy: pause)",
    ("*", "TaskTemplate.ContainerSpec.Init"): "the provider sends false; the CLI leaves it unset",
    ("*", "TaskTemplate.ContainerSpec.Healthcheck"): "the provider sends {}: the image's check",
    ("*", "TaskTemplate.ContainerSpec.CapabilityAdd"): "the CLI adds the CAP_ prefix",
    ("*", "TaskTemplate.ContainerSpec.CapabilityDrop"): "the CLI adds the CAP_ prefix",
}


def _samples(tmp_path: Path) -> list[tuple[str, list[Path]]]:
    """(id, main files) of every sample, copied under tmp_path and migrated to anchors."""
    out = []
    stacks = tmp_path / "stacks"
    shutil.copytree(REPO_ROOT / "stacks", stacks)
    out += [(f"stacks:{name}", [stacks / name]) for name in SAMPLES]
    if not (CORPUS_DIR / "manifest.json").is_file():
        return out  # the corpus_dir fixture has skipped (or failed) already
    for entry in json.loads((CORPUS_DIR / "manifest.json").read_text()):
        key = f"{entry['dir']}:{'+'.join(entry['main'])}"
        copy = tmp_path / f"c{len(out)}" / entry["dir"]
        shutil.copytree(CORPUS_DIR / entry["dir"], copy)
        files = [copy / m for m in entry["main"]]
        migrate(Project.of(files), backup=False)
        out.append((key, files))
    return out


def _dotenv(files: list[Path]) -> dict[str, str]:
    """The project's `.env`, exported as CI would (`set -a; . ./.env`): stack deploy does
    not read it, Docker Compose does."""
    found = files[0].parent / ".env"
    return {k: v or "" for k, v in dotenv_values(found).items()} if found.is_file() else {}


def test_stack_deploy_takes_every_sample_swarm_can_run(swarm_lab, corpus_dir, tmp_path) -> None:
    started = time.monotonic()
    accepted, refused, unexplained = set(), {}, []
    for key, files in _samples(tmp_path):
        stack = f"s{uuid.uuid4().hex[:6]}"
        done = eq.stack_deploy(swarm_lab, files, stack, _dotenv(files))
        if done.returncode == 0:
            created = eq.services(swarm_lab, stack)
            eq.stack_rm(swarm_lab, stack)
            model = compose_config([str(f) for f in files], project_name=stack, profiles=())
            assert set(created) == set(model["services"]), f"{key}: {done.stdout}{done.stderr}"
            accepted.add(key)
            continue
        error = done.stderr.strip()
        reason = next((why for text, why in REFUSED.items() if re.search(text, error)), None)
        if reason is None:
            unexplained.append(f"{key}: {error}")
        refused[key] = reason
    print(f"stack deploy: {len(accepted)} samples deployed, {len(refused)} refused, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    for key, reason in sorted(refused.items()):
        print(f"  excluded {key}: {reason}")
    assert not unexplained, "refused for a reason not in REFUSED:\n" + "\n".join(unexplained)
    assert accepted == ACCEPTED


@pytest.fixture(scope="module")
def both_sides(swarm_lab, tmp_path_factory) -> dict:
    """The case deployed by `docker stack deploy` and by Slipway at once; removed after."""
    root = tmp_path_factory.mktemp("equivalence")
    work = eq.slipway_workspace(root / "work", eq.CASES)
    suffix = uuid.uuid4().hex[:6]
    sides = {
        "compose": (f"ea{suffix}", {"EQ_PORT": str(free_port())}),
        "slipway": (f"eb{suffix}", {"EQ_PORT": str(free_port())}),
    }
    files = ["case/equivalence.yml"]
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(2) as pool:
            a = pool.submit(
                eq.stack_deploy, swarm_lab, [work / f for f in files], *sides["compose"]
            )
            b = pool.submit(eq.slipway, swarm_lab, work, files, *sides["slipway"])
            deployed, up = a.result(), b.result()
        assert deployed.returncode == 0, deployed.stderr
        assert up.returncode == 0, f"Slipway's up failed:\n{up.stderr[-4000:]}{up.stdout[-4000:]}"
        found = {side: eq.views(swarm_lab, *args) for side, args in sides.items()}
        yield {**found, "destroy": (work, files, *sides["slipway"])}
    finally:
        # Both sides' objects carry the stack label: `docker stack rm` removes either (the
        # Slipway side is destroyed by its test; this is the clean-up if that failed).
        for project, _ in sides.values():
            eq.stack_rm(swarm_lab, project)
        print(f"equivalence: both deployed, read and removed in {time.monotonic() - started:.0f} s")


def test_slipway_deploys_what_stack_deploy_deploys(both_sides) -> None:
    a, b = both_sides["compose"], both_sides["slipway"]
    assert set(a) == {"service api", "service worker"}, a.keys()
    differences = diff(a, b, [])
    compared = sum(len(flatten(v)) for v in a.values())
    left = [
        d for d in differences
        if (d.obj.removeprefix("service "), d.path) not in ALLOWED and ("*", d.path) not in ALLOWED
    ]  # fmt: skip
    print(f"equivalence: {compared} fields, {len(differences)} differences, "
          f"{len(differences) - len(left)} allowed")  # fmt: skip
    assert not left, f"{len(left)} difference(s) not in ALLOWED:\n" + "\n".join(
        str(d)[:600] for d in left
    )


def test_slipway_destroys_its_stack(swarm_lab, both_sides) -> None:
    """`destroy` ends and leaves none of the stack's objects: the case's `stop_grace_period:
    2s` makes the provider's wait for task containers run out (webhook/runners/
    swarm_destroy.py destroys again with a refresh)."""
    work, files, project, env = both_sides["destroy"]
    started = time.monotonic()
    done = eq.slipway(swarm_lab, work, files, project, env, verb="destroy")
    print(f"destroy: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, f"destroy failed:\n{done.stderr[-4000:]}{done.stdout[-4000:]}"
    label = f"label={eq.NAMESPACE}={project}"
    left = {
        kind: swarm_lab.docker(kind, "ls", "-q", "--filter", label).stdout.split()
        for kind in ("service", "network", "secret", "config")
    }
    assert not any(left.values()), f"left after destroy: {left}\n{done.stdout[-4000:]}"
