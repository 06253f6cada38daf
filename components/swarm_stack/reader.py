"""Read a stack's Compose files for Swarm: Docker Compose resolves them, as for one engine."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from components.compose.docker_compose import compose_config
from components.compose_stack.reader import extends_warnings
from components.swarm_stack.plan import SwarmPlan
from components.swarm_stack.translate import SwarmFacts, translate_swarm


def load_swarm_plan(
    files: Sequence[Path],
    *,
    project: str,
    profiles: Sequence[str] = (),
    registry: str | None = None,
) -> SwarmPlan:
    """Resolve `files` with `docker compose config` and translate them into a SwarmPlan.

    Raises ComposeConfigError (Compose rejected the files) or ComposeTranslationError.
    """
    paths = [Path(f).resolve() for f in files]
    model = compose_config(paths, project_name=project, profiles=tuple(profiles))
    facts = SwarmFacts(read_file=lambda path: Path(path).read_bytes(), environ=dict(os.environ))
    plan = translate_swarm(model, project, facts, registry)
    plan.warnings[:0] = extends_warnings(paths)
    return plan
