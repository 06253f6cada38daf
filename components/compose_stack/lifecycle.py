"""Lifecycle: start order, waits, restart policy, health checks (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from components.compose_stack.plan import Dependency, ServicePlan
from components.compose_stack.report import ComposeTranslationError, Report
from components.compose_stack.values import copy_keys, parse_duration

DEFAULT_WAIT_SECONDS = 60
_CONDITIONS = {
    "service_started": "started",
    "service_healthy": "healthy",
    "service_completed_successfully": "completed",
}


class JobFailedError(Exception):
    """A `service_completed_successfully` dependency exited with a non-zero code."""


RERUN_LABEL = "slipway.rerun"


def with_rerun(labels: list[dict], existing: Mapping[str, Any] | None, token: str) -> list[dict]:
    """`labels`, plus a label that changes at every `up` when the container exists and has
    stopped: the new value replaces the container, so it runs again.

    `docker compose up` starts every stopped container of the project again: a one-shot job
    (a migration) runs at each `up`, and one that failed runs again once fixed. The provider
    would keep an exited container as it is (a job waited for never ran again; a failed one
    kept the stack failed until its definition changed).
    """
    if existing is None or (existing.get("State") or {}).get("Running", True):
        return labels
    kept = [entry for entry in labels if entry["label"] != RERUN_LABEL]
    return sorted([*kept, {"label": RERUN_LABEL, "value": token}], key=lambda e: e["label"])


def check_job_exit(service: str, container: str, code: int | None) -> None:
    """Raise JobFailedError when `container` of job `service` did not exit with 0.

    Compose does not start the dependants of a failed job; neither does Slipway. `None` is
    an exit code not known yet (a preview).
    """
    if code is None or code == 0:
        return
    raise JobFailedError(
        f"service `{service}`: container {container} exited with code {code}, so the services "
        f"that wait for it to complete successfully are not started; see "
        f"`docker logs {container}`, fix it and deploy again (every `up` runs a stopped "
        "job again)"
    )


def dependencies(plan: ServicePlan, spec: Mapping[str, Any], where: str, report: Report) -> None:
    """A service's `depends_on` as plan dependencies."""
    for service, dep in (spec.get("depends_on") or {}).items():
        dep = dep or {}
        condition = _CONDITIONS.get(dep.get("condition", "service_started"))
        if condition is None:
            report.reject(
                where,
                f"depends_on.{service}.condition",
                f"unknown condition {dep.get('condition')!r}",
            )
            continue
        if dep.get("restart"):
            report.warn(
                where,
                f"depends_on.{service}.restart",
                "Docker does not restart dependants when a dependency restarts",
            )
        plan.depends_on = [d for d in plan.depends_on if d.service != service]
        plan.depends_on.append(Dependency(service, condition))


def check_container_references(services: dict[str, ServicePlan], report: Report) -> None:
    """`network_mode: service:x` and `volumes_from: [x]` need a container of `x`."""
    for plan in services.values():
        used = [m.source for m in plan.mounts if m.kind == "from_service"]
        if plan.network_mode_service:
            used.append(plan.network_mode_service)
        for name in used:
            target = services.get(name)
            if target is None or not target.container_names:
                report.problems.append(
                    f"service `{plan.name}`: uses the container of `{name}`, which has no "
                    "container in this stack: give it one replica or remove the reference"
                )


def share_namespaces(services: dict[str, ServicePlan], report: Report) -> None:
    """`pid: service:x` and `ipc: service:x` join the first container of `x`, as Compose does
    (Docker itself knows only `container:<name>`)."""
    for plan in services.values():
        for key in ("pid_mode", "ipc_mode"):
            mode = str(plan.args.get(key) or "")
            if not mode.startswith("service:"):
                continue
            target = services.get(mode.removeprefix("service:"))
            if target is None or not target.container_names:
                report.problems.append(
                    f"service `{plan.name}`: {key.removesuffix('_mode')} `{mode}` names a "
                    "service without a container in this stack: fix the name or its replicas"
                )
                continue
            plan.args[key] = f"container:{target.container_names[0]}"
            if not any(d.service == target.name for d in plan.depends_on):
                plan.depends_on.append(Dependency(target.name, "started"))


def mark_waited_dependencies(services: dict[str, ServicePlan], report: Report) -> None:
    """Set `wait_healthy`/`run_to_completion` on what dependants wait for."""
    for plan in services.values():
        kept = []
        for dep in plan.depends_on:
            target = services.get(dep.service)
            if target is None:
                continue  # `required: false` dependency outside the active profiles
            kept.append(dep)
            if dep.condition == "healthy":
                target.wait_healthy = True
                target.wait_timeout = max(
                    target.wait_timeout or 0, _health_wait_seconds(target.args.get("healthcheck"))
                )
                if not (target.args.get("healthcheck") or {}).get("tests"):
                    report.warnings.append(
                        f"service `{plan.name}`: waits for `{dep.service}` to be healthy, but "
                        f"`{dep.service}` has no Compose healthcheck; "
                        "the image's HEALTHCHECK must exist"
                    )
            elif dep.condition == "completed":
                target.run_to_completion = True
        plan.depends_on = kept


def _health_wait_seconds(check: Mapping[str, Any] | None) -> int:
    """Long enough for Docker to call the container healthy or unhealthy (at least 60 s)."""
    check = check or {}
    interval = parse_duration(check.get("interval", "30s"))
    timeout = parse_duration(check.get("timeout", "30s"))
    start = parse_duration(check.get("start_period", "0s"))
    retries = int(check.get("retries", 3))
    return max(DEFAULT_WAIT_SECONDS, math.ceil(start + (interval + timeout) * retries))


def dependency_order(services: dict[str, ServicePlan]) -> list[ServicePlan]:
    """Services sorted so that each comes after what it depends on (stable otherwise)."""
    ordered: list[ServicePlan] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise ComposeTranslationError([f"dependency cycle: {' -> '.join((*path, name))}"])
        for dep in services[name].depends_on:
            visit(dep.service, (*path, name))
        done.add(name)
        ordered.append(services[name])

    for name in services:
        visit(name, ())
    return ordered


def healthcheck(check: Mapping[str, Any], where: str, report: Report) -> dict[str, Any]:
    """A Compose `healthcheck` as the container's `healthcheck` input."""
    if check.get("start_interval") is not None and check.get("start_period") is None:
        report.reject(
            where,
            "healthcheck.start_interval without start_period",
            "Compose refuses it (Docker would ignore it): add `start_period`",
        )
    if check.get("disable"):
        return {"tests": ["NONE"]}
    out: dict[str, Any] = {}
    test = check.get("test")
    if test:
        out["tests"] = [test] if isinstance(test, str) else [str(t) for t in test]
    copy_keys(
        check,
        out,
        {
            "interval": "interval",
            "timeout": "timeout",
            "start_period": "start_period",
            "start_interval": "start_interval",
            "retries": "retries",
        },
    )
    return out


def argv(args: dict[str, Any], where: str, report: Report) -> None:
    """Make `entrypoints`/`command` start what Compose starts, within what the provider takes.

    The provider drops an empty entrypoint (Compose's `entrypoint: []` resets the image's)
    and refuses an empty-string command argument; both are expressed by putting the whole
    command line in `entrypoints`, which starts the same process. Without a `command`, the
    image's CMD would be needed, which is unknown when Slipway plans: refused.
    """
    entrypoint, command = args.get("entrypoints"), args.get("command") or []
    reset = entrypoint is not None and entrypoint in ([], [""])
    if not reset and "" not in command:
        return
    if reset and not command:
        report.reject(
            where,
            f"entrypoint: {entrypoint}",
            "without `command` the image's CMD would run, which Slipway does not know: "
            "write it as `command`",
        )
    elif entrypoint is None:
        report.reject(
            where,
            f"command: {command}",
            "the docker provider refuses an empty argument in `command`: set `entrypoint` "
            "too (the image's, or [] if it has none) so the whole command line is passed",
        )
    else:
        args["entrypoints"] = ([] if reset else list(entrypoint)) + list(command)
        args.pop("command", None)


def stop_grace(seconds: float, args: dict[str, Any]) -> None:
    """`stop_grace_period` in whole seconds, truncated as Compose does.

    The provider takes a `stop_timeout` of 0 as unset (Docker's 10 s); 0 s means "kill at
    once", so it becomes the stop signal SIGKILL instead.
    """
    whole = int(seconds)
    if whole == 0:
        args["stop_signal"] = "SIGKILL"
        return
    args["stop_timeout"] = whole
    args["destroy_grace_seconds"] = whole


_POLICIES = {
    "": "no",
    "no": "no",
    "none": "no",
    "on-failure": "on-failure",
    "unless-stopped": "unless-stopped",
    "always": "always",
    "any": "always",
}


def restart(
    spec: Mapping[str, Any],
    deploy: Mapping[str, Any],
    args: dict[str, Any],
    where: str,
    report: Report,
) -> None:
    """`restart`, or `deploy.restart_policy` (which wins, as in Compose), as `restart` and
    `max_retry_count`. A policy without `condition` is no policy, as in Compose."""
    key = "restart"
    condition, _, count = str(spec.get("restart") or "").partition(":")
    retries = int(count or 0)
    if "restart_policy" in deploy:
        key = "deploy.restart_policy"
        policy = deploy["restart_policy"] or {}
        condition, retries = str(policy.get("condition") or ""), policy.get("max_attempts") or 0
        for option in ("delay", "window"):
            if option in policy:
                report.warn(
                    where,
                    f"deploy.restart_policy.{option}",
                    "Docker restarts with its own back-off on one host",
                )
    name = _POLICIES.get(condition)
    if name is None:
        report.reject(
            where, f"{key}: {condition}", "use no, on-failure, unless-stopped or always (any)"
        )
        return
    args["restart"] = name
    if retries and name != "on-failure":
        report.reject(
            where,
            f"{key} max attempts with {condition or 'no condition'}",
            "Docker counts restarts only with on-failure: use `condition: on-failure` "
            "(`restart: on-failure:N`) or remove the count",
        )
    elif retries:
        args["max_retry_count"] = int(retries)
