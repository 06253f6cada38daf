"""Read a stack's Compose files through Docker Compose itself (the I/O side of the plan)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from components.compose.docker_compose import compose_config, find_compose_command, service_hashes
from components.compose.yaml_source import MigrationError, load_source
from components.compose.yaml_source import services_using_extends as extends_in
from components.compose_stack.handed_render import Render, handed
from components.compose_stack.plan import StackPlan
from components.compose_stack.report import ComposeTranslationError, FileInfo
from components.compose_stack.translate import HostFacts, translate_model

MIGRATE_COMMAND = "python -m components.compose migrate"


def services_using_extends(path: Path) -> list[str]:
    """Names of the services in the Compose file `path` that still use `extends`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []  # Docker Compose reports unreadable files with a better message
    if "extends" not in text:
        return []  # most files never mention it: no need to parse them
    try:
        return extends_in(load_source(path, text))
    except MigrationError:
        return []  # Docker Compose reports invalid YAML with a better message


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


def file_info(path: str) -> FileInfo | None:
    """Mode and owner of the regular file `path`, or None when it is not one."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return FileInfo(mode=stat.S_IMODE(found.st_mode), uid=found.st_uid, gid=found.st_gid)


def compose_version() -> str:
    """`docker compose version --short` of the Compose that resolves the files ("" if unknown)."""
    try:
        done = subprocess.run(
            [*find_compose_command(), "version", "--short"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def shown_path(path: Path, base: Path) -> str:
    """`path` relative to `base` (the Pulumi project folder) when inside it: the same in every
    checkout, so labels that show it do not change from one deployment to the next."""
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def load_stack_plan(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str] = (),
    remote_docker_host: bool = False,
    binds_dir: str | None = None,
) -> StackPlan:
    """Resolve `files` with `docker compose config` and translate them into a StackPlan.
    Compose's answers handed by the deploy service for exactly these inputs are used
    instead of running it again (handed_render.py).

    The project directory is Compose's default: the folder of the first file. `binds_dir`:
    binds of paths in the checkout (the current folder) point there (project_binds.py).
    Raises ComposeConfigError (Compose rejected the files) or ComposeTranslationError.
    """
    paths = [Path(f).resolve() for f in files]
    render = handed(paths, project, profiles) or ask_compose(paths, project, profiles)
    facts = HostFacts(
        project_dir=str(paths[0].parent),
        is_file=os.path.isfile,
        file_info=file_info,
        config_files=tuple(shown_path(p, Path.cwd()) for p in paths),
        working_dir=shown_path(paths[0].parent, Path.cwd()),
        compose_version=render.version,
        service_hashes=render.hashes,
        environ=dict(os.environ),
        remote_docker_host=remote_docker_host,
        binds_dir=binds_dir,
        checkout_dir=str(Path.cwd().resolve()),
    )
    plan = translate_model(render.model, project, facts)
    missing = missing_build_contexts(plan)
    if missing:
        raise ComposeTranslationError(missing)
    plan.warnings[:0] = extends_warnings(paths)
    return plan


def ask_compose(paths: Sequence[Path], project: str, profiles: Sequence[str]) -> Render:
    """Compose's model, service hashes and version of `paths`. The three answers are
    independent: asked at once, they cost one Compose run's time instead of three
    (docs/full-up.md)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        version = pool.submit(compose_version)
        hashes = pool.submit(service_hashes, paths, project_name=project, profiles=tuple(profiles))
        model = compose_config(paths, project_name=project, profiles=tuple(profiles))
    return Render(model, hashes.result(), version.result())


def missing_build_contexts(plan: StackPlan) -> list[str]:
    """A problem for each `build.context` that is not a folder here: the provider sends the
    context from this machine to the engine, also to a remote Docker host."""
    problems = []
    for service in plan.services:
        context = (service.image.build or {}).get("context")
        if context and "://" not in context and not os.path.isdir(context):
            problems.append(
                f"service `{service.name}`: `build.context` {context} is not a folder on this "
                "machine: the image is built from it; check the path (relative to the first "
                "Compose file) or that the checkout holds it"
            )
    return problems
