"""Read a stack's Compose files through Docker Compose itself (the I/O side of the plan)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from components.compose.docker_compose import compose_config
from components.compose_stack.plan import StackPlan
from components.compose_stack.translate import HostFacts, translate_model

MIGRATE_COMMAND = "python -m components.compose migrate"


def services_using_extends(path: Path) -> list[str]:
    """Names of the services in the Compose file `path` that still use `extends`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []  # Docker Compose reports unreadable files with a better message
    if "extends" not in text:
        return []  # parsing large files costs seconds; most files never mention it
    try:
        # Round-trip mode keeps Compose's own tags (`!reset`, `!override`) instead of failing.
        document = YAML(typ="rt", pure=True).load(text)
    except YAMLError:
        return []  # Docker Compose reports unreadable files with a better message
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, dict):
        return []
    return sorted(n for n, s in services.items() if isinstance(s, dict) and "extends" in s)


def extends_warnings(files: Sequence[Path]) -> list[str]:
    """One warning per file that still uses `extends`, pointing to the migration."""
    warnings = []
    for path in files:
        names = services_using_extends(path)
        if names:
            warnings.append(
                f"{path}: service(s) {', '.join(names)} use `extends`; Compose resolves it, "
                f"but migrate the file to anchors: `{MIGRATE_COMMAND} {path}`"
            )
    return warnings


def load_stack_plan(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str] = (),
    remote_docker_host: bool = False,
) -> StackPlan:
    """Resolve `files` with `docker compose config` and translate them into a StackPlan.

    The project directory is Compose's default: the folder of the first file.
    Raises ComposeConfigError (Compose rejected the files) or ComposeTranslationError.
    """
    paths = [Path(f).resolve() for f in files]
    model = compose_config(paths, project_name=project, profiles=tuple(profiles))
    facts = HostFacts(
        project_dir=str(paths[0].parent),
        is_file=os.path.isfile,
        environ=dict(os.environ),
        remote_docker_host=remote_docker_host,
    )
    plan = translate_model(model, project, facts)
    plan.warnings[:0] = extends_warnings(paths)
    return plan
