"""I/O and views of the Swarm equivalence suite (tests/components/swarm_stack/test_equivalence.py).

The same Compose files are deployed on the lab by `docker stack deploy` (stack `ea…`) and by
Slipway (`slipway:target: swarm`, project `eb…`, real Pulumi CLI and provider); each side's
services are read back with `docker service inspect` and reduced to the fields that mean
something (`service_view`): what differs by design (IDs, versions, timestamps, the
project's name, names Slipway gives secrets and configs) is replaced, never compared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.fidelity.normalize import replace
from tests.support.real_stack import REPO_ROOT, pulumi_env
from tests.support.swarm.lab import SwarmLab

CASES = Path(__file__).resolve().parent / "cases"  # the representative case and its files
STACK = "<stack>"
# Written by `docker stack deploy` only: the image as the file named it, for `docker stack ps`.
STACK_IMAGE_LABEL = "com.docker.stack.image"
NAMESPACE = "com.docker.stack.namespace"


def stack_deploy(lab: SwarmLab, files: list[Path], stack: str, env: Mapping[str, str]):
    """`docker stack deploy -c F... STACK` on the lab's manager (images are the nodes' own:
    `--resolve-image never`, as nothing can be pulled here); the finished process."""
    argv = ["docker", "-H", lab.manager, "stack", "deploy", "--resolve-image", "never", "-d"]
    for f in files:
        argv += ["-c", str(f)]
    return subprocess.run(
        [*argv, stack], capture_output=True, text=True, timeout=300, check=False,
        cwd=files[0].parent, env={**os.environ, **env},
    )  # fmt: skip


def stack_rm(lab: SwarmLab, stack: str) -> None:
    """Remove a stack deployed by `docker stack deploy` (best effort)."""
    lab.docker("stack", "rm", stack, check=False)


def slipway_workspace(root: Path, case: Path) -> Path:
    """A copy of the program (Pulumi.yaml, __main__.py, components) with `case` in `case/`."""
    root.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO_ROOT / name, root / name)
    shutil.copytree(
        REPO_ROOT / "components", root / "components",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # fmt: skip
    shutil.copytree(case, root / "case")
    return root


def slipway(
    lab: SwarmLab,
    work: Path,
    files: list[str],
    project: str,
    env: Mapping[str, str],
    verb: str = "up",
) -> subprocess.CompletedProcess:
    """Slipway's `up` (or `destroy`) of `files` (relative to `work`) as `project` on the lab."""
    listed = "".join(f"    - {f}\n" for f in files)
    (work / f"Pulumi.{project}.yaml").write_text(
        f"config:\n  slipway:composeFiles:\n{listed}"
        f"  slipway:composeProject: {project}\n"
        "  slipway:target: swarm\n"
        f"  slipway:dockerHost: {lab.manager}\n"
    )
    full_env = {**os.environ, **env, **pulumi_env(work.parent / "backend")}
    return subprocess.run(
        [sys.executable, "-m", "webhook.runners.stack_process", verb, "--stack", project,
         "--work-dir", str(work)],
        cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def services(lab: SwarmLab, stack: str) -> dict[str, dict]:
    """`docker service inspect` of every service of `stack`, by Compose service name."""
    ids = lab.docker("service", "ls", "-q", "--filter", f"label={NAMESPACE}={stack}").stdout.split()
    if not ids:
        return {}
    docs = json.loads(lab.docker("service", "inspect", *ids).stdout)
    return {d["Spec"]["Name"].removeprefix(f"{stack}_"): d for d in docs}


def names_by_id(lab: SwarmLab, kind: str) -> dict[str, str]:
    """ID → name of every network, secret or config on the manager."""
    wide = ["--no-trunc"] if kind == "network" else []  # secret and config IDs are whole
    out = lab.docker(kind, "ls", *wide, "--format", "{{.ID}} {{.Name}}").stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def replacements(lab: SwarmLab, stack: str, variables: Mapping[str, str]) -> dict[str, str]:
    """Side-specific text → placeholder: the stack's name and the variables' values (ports)."""
    table = {stack: STACK}
    table.update({value: f"<{name}>" for name, value in variables.items()})
    return table


def service_view(
    doc: Mapping[str, Any], ids: Mapping[str, str], ports: Mapping[int, str]
) -> dict[str, Any]:
    """The compared fields of a service: its spec (networks, secrets and configs by name, not
    ID); `ids` maps network/secret/config IDs to names, `ports` each side's published port
    numbers to their variable's name."""
    spec = json.loads(json.dumps(doc["Spec"]))
    spec.pop("Name", None)
    (spec.get("Labels") or {}).pop(STACK_IMAGE_LABEL, None)
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    container["Image"] = str(container.get("Image", "")).split("@", 1)[0]
    container["Env"] = sorted(container.get("Env") or [])  # order means nothing to a process
    # Sent in full by the CLI, left out by the provider: the same defaults either way.
    privileges = container.pop("Privileges", None) or {}
    if any(privileges.values()):
        container["Privileges"] = privileges
    mounts = sorted(container.get("Mounts") or [], key=lambda m: m["Target"])
    for mount in mounts:
        options = mount.get("VolumeOptions") or {}
        if not options.get("DriverConfig"):
            options.pop("DriverConfig", None)
        # stack deploy labels each named volume with its stack (docs/swarm.md); Slipway not
        if (options.get("Labels") or {}).get(NAMESPACE) == STACK:
            options["Labels"].pop(NAMESPACE)
    if mounts:
        container["Mounts"] = mounts
    for key in ("Secrets", "Configs"):
        for use in container.get(key) or []:
            use.pop(f"{key[:-1]}ID", None)
            use[f"{key[:-1]}Name"] = _file_name(use.get(f"{key[:-1]}Name", ""))
            target = use.get("File", {}).get("Name", "")
            if key == "Secrets" and target and not target.startswith("/"):
                use["File"]["Name"] = f"/run/secrets/{target}"  # where Swarm puts it
    networks = task.get("Networks") or spec.pop("Networks", None) or []
    task["Networks"] = sorted(
        ({**n, "Target": ids.get(n["Target"], n["Target"])} for n in networks),
        key=lambda n: n["Target"],
    )
    task.pop("ForceUpdate", None)  # a counter: `docker service update --force` bumps it
    for port in (spec.get("EndpointSpec") or {}).get("Ports") or []:
        port["PublishedPort"] = ports.get(port.get("PublishedPort"), port.get("PublishedPort"))
    return spec


def _file_name(name: str) -> str:
    """A secret's or config's name without what each side adds: stack deploy prefixes
    `<stack>_`, Slipway suffixes `-<digest of the content>` (Swarm never updates data)."""
    name = name.removeprefix(f"{STACK}_")
    head, _, tail = name.rpartition("-")
    return head if head and len(tail) == 10 and all(c in "0123456789abcdef" for c in tail) else name


def views(lab: SwarmLab, stack: str, variables: Mapping[str, str]) -> dict[str, Any]:
    """Every service of `stack` as its view, side-specific text replaced."""
    ids = {**names_by_id(lab, "network"), **names_by_id(lab, "secret"),
           **names_by_id(lab, "config")}  # fmt: skip
    table = replacements(lab, stack, variables)
    found = {name: replace(doc, table) for name, doc in services(lab, stack).items()}
    ids = replace(ids, table)
    ports = {int(v): f"<{k}>" for k, v in variables.items() if v.isdigit()}
    return {f"service {name}": service_view(doc, ids, ports) for name, doc in found.items()}
