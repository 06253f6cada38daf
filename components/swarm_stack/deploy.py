"""The `deploy:` section as Swarm's service mode, policies and placement (pure).

Defaults that serve users where Compose says nothing: an update starts the new task
before it stops the old one (`order: start-first`) when the service can run twice, and a
failed update is rolled back (`failure_action: rollback`), not paused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.swarm_stack.rules import DEPLOY_KEYS, UPDATE_KEYS

ROLLBACK = "rollback"


def can_run_twice(spec: Mapping[str, Any]) -> bool:
    """Two tasks of the service may run side by side during an update: not when one takes a
    host port (the second could not bind it on the same node) or a named volume's data."""
    ports = spec.get("ports") or []
    if any(port.get("mode") == "host" for port in ports):
        return False
    volumes = spec.get("volumes") or []
    return not any(v.get("type") == "volume" and v.get("source") for v in volumes)


def deploy_args(name: str, spec: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """docker.Service keywords from `deploy:` (mode, update/rollback, converge) and the
    task spec parts it sets (`resources`, `placement`, `restart_policy`)."""
    deploy = spec.get("deploy") or {}
    for key in sorted(set(deploy) - DEPLOY_KEYS):
        problems.append(f"service `{name}`: `deploy.{key}` is not supported on Swarm by Slipway")
    args: dict[str, Any] = {"mode": _mode(name, deploy, spec, problems)}
    order = "start-first" if can_run_twice(spec) else "stop-first"
    update = {
        "order": order,
        "failure_action": ROLLBACK,
        **_policy(name, deploy, "update_config", problems),
    }
    rollback = {"order": update["order"], **_policy(name, deploy, "rollback_config", problems)}
    args["update_config"] = update
    args["rollback_config"] = rollback
    if deploy.get("endpoint_mode"):
        args["endpoint_spec"] = {"mode": deploy["endpoint_mode"]}
    task: dict[str, Any] = {}
    resources = _resources(name, deploy.get("resources") or {}, problems)
    if resources:
        task["resources"] = resources
    placement = _placement(deploy.get("placement") or {})
    if placement:
        task["placement"] = placement
    restart = deploy.get("restart_policy")
    if restart:
        task["restart_policy"] = {
            k: v
            for k, v in restart.items()
            if k in ("condition", "delay", "max_attempts", "window")
        }
    args["task_spec"] = task
    return args


def _mode(name: str, deploy: Mapping[str, Any], spec: Mapping[str, Any], problems: list[str]):
    mode = deploy.get("mode") or "replicated"
    if mode == "global":
        return {"global_": True}
    if mode != "replicated":
        problems.append(
            f"service `{name}`: `deploy.mode: {mode}` is not supported (the docker provider "
            "declares no Swarm jobs); use replicated or global"
        )
    replicas = deploy.get("replicas", spec.get("scale", 1))
    return {"replicated": {"replicas": int(replicas)}}


def _policy(name: str, deploy: Mapping[str, Any], key: str, problems: list[str]) -> dict:
    given = deploy.get(key) or {}
    for unknown in sorted(set(given) - UPDATE_KEYS):
        problems.append(f"service `{name}`: `deploy.{key}.{unknown}` is not a Swarm setting")
    return {k: v for k, v in given.items() if k in UPDATE_KEYS and v is not None}


def _resources(name: str, resources: Mapping[str, Any], problems: list[str]) -> dict:
    out = {}
    for side, target in (("limits", "limits"), ("reservations", "reservation")):
        given = resources.get(side) or {}
        part = {}
        if given.get("cpus") is not None:
            part["nano_cpus"] = round(float(given["cpus"]) * 1e9)
        if given.get("memory") is not None:
            part["memory_bytes"] = int(given["memory"])
        for other in sorted(set(given) - {"cpus", "memory"}):
            problems.append(
                f"service `{name}`: `deploy.resources.{side}.{other}` is not supported on "
                "Swarm by the docker provider; remove it"
            )
        if part:
            out[target] = part
    return out


def _placement(placement: Mapping[str, Any]) -> dict:
    out: dict[str, Any] = {}
    if placement.get("constraints"):
        out["constraints"] = list(placement["constraints"])
    # The provider's `prefs` is the spread descriptor itself (`node.labels.zone`): a
    # `spread=` prefix would make Swarm spread over a label of that name, found on no node.
    prefs = [p["spread"] for p in placement.get("preferences") or [] if p.get("spread")]
    if prefs:
        out["prefs"] = prefs
    if placement.get("max_replicas_per_node") is not None:
        out["max_replicas"] = int(placement["max_replicas_per_node"])
    return out
