"""Whether a deployment may skip `up`: the unchanged path, and the proof it records.

`up` is skipped only when all of these hold, else it runs (any doubt is a full `up`):
1. the deployment was not asked for with `force`, nor is it a drift reconcile;
2. the stack's newest apply (store `stack_applies`) ended healthy: no later `up` failed,
   was interrupted or is unknown;
3. the commit's fingerprint (fingerprint.py) equals that apply's;
4. that apply had no routed services (a routed deploy is a new release: docs/cutover.md);
5. the drift check, when one is wired in (`drift`), found no drift;
6. the engine runs exactly the containers recorded when that apply was healthy: the same
   ids, images (and tags still naming them), config hashes and states (engine_state.py).
The outputs of that apply stand in for `up`'s; the health checks still run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webhook.orchestrator import engine_state
from webhook.orchestrator.fingerprint import Fingerprint, FingerprintError, fingerprint
from webhook.store import Deployment, StackApply, Store

UP, UNCHANGED = "up", "unchanged"
RECONCILE_PREFIX = "reconcile:"  # delivery ids of drift reconciles (webhook/orchestrator/drift.py)

DriftCheck = Callable[[str, str], str | None]
"""(stack, Compose project) → a description of the drift found, or None. Wired in by the
drift detection; an exception counts as drift (doubt runs `up`)."""


@dataclass(frozen=True)
class PathChoice:
    """`up` or `unchanged`, why, and what to record with it."""

    path: str
    reason: str
    fingerprint: Fingerprint | None = None
    outputs: dict[str, Any] | None = None  # the recorded outputs, on the unchanged path
    refresh: bool = False  # the engine differs from the record: `up --refresh` reads it first
    live: dict[str, engine_state.ContainerState] | None = None  # what the proof read

    @property
    def unchanged(self) -> bool:
        return self.path == UNCHANGED


@dataclass
class UnchangedCheck:
    """Decides the path of one apply, from the store, the checkout and the engine."""

    store: Store
    drift: DriftCheck | None = None

    def choose(self, deployment: Deployment, tree: Path, env: Mapping[str, str]) -> PathChoice:
        stack = deployment.stack
        try:
            current = fingerprint(tree, stack, env)
        except FingerprintError as error:
            return PathChoice(UP, f"fingerprint unknown: {error}")
        if self.store.is_forced(deployment.id):
            return PathChoice(UP, "forced: a full up was asked for", current)
        if (deployment.delivery_id or "").startswith(RECONCILE_PREFIX):
            return PathChoice(UP, "a drift reconcile: always a full up (docs/drift.md)", current)
        base = self.store.newest_apply(stack)
        doubt = _doubt_about(base, current)
        if doubt is not None:
            return PathChoice(UP, doubt, current)
        assert base is not None and base.outputs is not None and base.containers is not None
        drift = self._drift(stack, current.project)
        if drift is not None:
            return PathChoice(UP, f"drift found: {drift}", current)
        try:
            live = engine_state.read_project(current.project, current.docker_host)
        except engine_state.EngineError as error:
            return PathChoice(UP, f"engine check failed: {error}", current)
        recorded = engine_state.from_json(json.loads(base.containers))
        problems = engine_state.differences(recorded, live)
        if problems:
            reason = f"engine differs from deployment {base.deployment_id}'s: " + "; ".join(
                problems
            )
            return PathChoice(UP, reason, current, refresh=True)
        proof = (
            f"unchanged since deployment {base.deployment_id} ({base.sha[:12]}): fingerprint "
            f"{current.digest[:12]} equal; the engine runs its {len(live)} containers as they "
            f"were when healthy: {engine_state.summary(live)}"
        )
        return PathChoice(UNCHANGED, proof, current, json.loads(base.outputs), live=live)

    def _drift(self, stack: str, project: str) -> str | None:
        if self.drift is None:
            return None
        try:
            return self.drift(stack, project)
        except Exception as error:  # a check that cannot say is doubt
            return f"the drift check failed ({type(error).__name__}: {error})"


def _doubt_about(base: StackApply | None, current: Fingerprint) -> str | None:
    """Why the stack's newest apply cannot vouch for `current`; None when it can."""
    if base is None:
        return "no earlier apply of this stack is recorded"
    if base.healthy_at is None or base.outputs is None or base.containers is None:
        return (
            f"the stack's last apply (deployment {base.deployment_id}, {base.path}) did not "
            "end healthy: what the engine runs is not known"
        )
    if base.fingerprint != current.digest:
        changed = current.differences(json.loads(base.parts or "{}"))
        return (
            f"the rendered stack differs from deployment {base.deployment_id}'s "
            f"({base.sha[:12]}): {', '.join(changed) or 'fingerprint'} changed"
        )
    if (json.loads(base.outputs) or {}).get("routing"):
        return "routed services: every deploy is a new release (docs/cutover.md)"
    return None


def record_healthy(store: Store, apply_id: int, outputs: Mapping[str, Any], choice: PathChoice,
                   project_host: tuple[str, str | None] | None) -> str:  # fmt: skip
    """Keep the healthy apply's outputs and the engine's containers as the next proof base;
    a line for the log. Without a fingerprint (or an engine answer) nothing is kept."""
    if choice.fingerprint is None or project_host is None:
        return "unchanged: no fingerprint, the next deploy runs a full up"
    project, host = project_host
    try:
        live = engine_state.read_project(project, host)
    except engine_state.EngineError as error:
        return f"unchanged: engine not read ({error}); the next deploy runs a full up"
    containers = {name: c.as_json() for name, c in live.items()}
    store.mark_apply_healthy(apply_id, json.dumps(dict(outputs)), json.dumps(containers))
    return (
        f"unchanged: recorded fingerprint {choice.fingerprint.digest[:12]} and "
        f"{len(containers)} containers as the proof base of the next deploy"
    )
