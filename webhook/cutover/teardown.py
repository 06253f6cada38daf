"""Remove what a routed stack made outside Pulumi's state, before the stack is destroyed.

The proxy (`<project>-proxy`, label `slipway.proxy`) and every release's routed containers
(label `slipway.project`, created with `retain_on_delete`, so `pulumi destroy` only drops
them from the state) are not deleted by a destroy; the proxy also holds the stack's network,
so the destroy timed out removing it (issue 34 item 10). `make down` runs this first:

    python -m webhook.cutover.teardown --stack STACK   (the project of Pulumi.STACK.yaml)

and, after the destroy, `--images` removes the image tags built for the project (kept
locally for rollbacks, so a destroy leaves them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ruamel.yaml import YAML

from components.config import default_project, expand_variables
from webhook.cutover.engine import PROJECT_LABEL, PROXY_LABEL, EngineError, docker


def routed_containers(project: str) -> list[str]:
    """Names of the project's proxy and routed release containers, running or not."""
    names: list[str] = []
    for label in (PROXY_LABEL, PROJECT_LABEL):
        listed = docker(
            "ps", "-a", "--filter", f"label={label}={project}", "--format", "{{.Names}}"
        )
        names += [n for n in listed.splitlines() if n and n not in names]
    return names


def remove_routed(project: str) -> list[str]:
    """Remove the proxy and every release container of `project`; their names."""
    names = routed_containers(project)
    if names:
        docker("rm", "-f", "-v", *names, timeout=120)
    return names


def remove_built_images(project: str) -> list[str]:
    """After the destroy: untag every image built for `project` (`<project>-<service>:ctx-…`,
    kept locally for rollbacks, so a destroy leaves them); the tags removed. An image still
    used by a container stays (docker refuses to remove it)."""
    listed = docker(
        "images", "--filter", f"reference={project}-*", "--format", "{{.Repository}}:{{.Tag}}"
    )
    tags = [t for t in listed.splitlines() if t.rsplit(":", 1)[-1].startswith("ctx-")]
    removed = []
    for tag in tags:
        try:
            docker("rmi", tag, timeout=120)
            removed.append(tag)
        except EngineError as error:  # one tag in use must not stop the rest
            print(f"kept {tag}: {error}", file=sys.stderr)
    return removed


def stack_project(stack: str, work_dir: Path) -> str:
    """`slipway:composeProject` of `Pulumi.<stack>.yaml`, or its default."""
    path = work_dir / f"Pulumi.{stack}.yaml"
    config = (YAML(typ="safe").load(path.read_text()) or {}).get("config") or {}
    project = expand_variables(str(config.get("slipway:composeProject") or ""), os.environ)
    return project or default_project(stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webhook.cutover.teardown")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--work-dir", type=Path, default=Path.cwd())
    parser.add_argument(
        "--images", action="store_true", help="after the destroy: remove the built image tags"
    )
    args = parser.parse_args(argv)
    project = stack_project(args.stack, args.work_dir)
    if args.images:
        tags = remove_built_images(project)
        if tags:
            print(f"removed the image tags built for {project}: {', '.join(tags)}")
        return 0
    removed = remove_routed(project)
    if removed:
        print(f"removed the proxy and routed releases of {project}: {', '.join(removed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
