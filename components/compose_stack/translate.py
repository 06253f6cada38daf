"""Translate Docker Compose's resolved model into a StackPlan (pure: no I/O, no Pulumi).

Input is the JSON of `docker compose config --format json`: interpolation, `env_file`,
`extends`, anchors and short syntax are already resolved. Every key is checked against the
tables in `support.py`: translated, warned (does not apply to one host) or rejected. All
problems are collected and raised together so one run shows everything to fix. The work is
split by concern: `settings` (container keywords), `networking`, `storage`, `lifecycle`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from components.compose_stack import compose_labels, lifecycle, networking, routes, storage
from components.compose_stack.plan import ImagePlan, NetworkPlan, ServicePlan, StackPlan, VolumePlan
from components.compose_stack.report import ComposeTranslationError, HostFacts, Report
from components.compose_stack.settings import container_args
from components.compose_stack.support import BUILD_KEYS, DEPLOY_KEYS, SERVICE_KEYS, TOP_LEVEL_KEYS
from components.compose_stack.values import (
    copy_keys,
    host_entry,
    parse_duration,
    to_mib,
    unescape,
)

__all__ = [
    "ComposeTranslationError",
    "HostFacts",
    "parse_duration",
    "to_mib",
    "translate_model",
]


def translate_model(model: Mapping[str, Any], project: str, facts: HostFacts) -> StackPlan:
    """Build the StackPlan for `project` from Compose's resolved `model`.

    Raises ComposeTranslationError listing every setting that cannot be deployed.
    """
    report = Report()
    top = report.check("top-level", TOP_LEVEL_KEYS, unescape(model))
    networks = [
        networking.network(key, spec or {}, report)
        for key, spec in (top.get("networks") or {}).items()
    ]
    volumes = [
        storage.volume(key, spec or {}, report) for key, spec in (top.get("volumes") or {}).items()
    ]
    files = {"secrets": top.get("secrets") or {}, "configs": top.get("configs") or {}}
    raw_services: Mapping[str, Any] = top.get("services") or {}
    services = {
        name: _service(name, spec, project, files, facts, report)
        for name, spec in raw_services.items()
    }
    named = {v.key for v in volumes}
    for plan in services.values():
        volumes.extend(storage.anonymous_volumes(plan))
    _label(project, facts, raw_services, services, networks, volumes, named)
    networking.apply_links(raw_services, services, report)
    lifecycle.share_namespaces(services, report)
    lifecycle.mark_waited_dependencies(services, report)
    lifecycle.check_container_references(services, report)
    routing = routes.parse_routing(model, project, services, report)
    if report.problems:
        raise ComposeTranslationError(report.problems)
    return StackPlan(
        project=project,
        networks=networks,
        volumes=volumes,
        services=lifecycle.dependency_order(services),
        warnings=report.warnings,
        routing=routing,
    )


def _label(
    project: str,
    facts: HostFacts,
    raw: Mapping[str, Any],
    services: Mapping[str, ServicePlan],
    networks: list[NetworkPlan],
    volumes: list[VolumePlan],
    named: set[str],
) -> None:
    """Compose's bookkeeping labels on every container, network and volume Slipway creates."""
    version = facts.compose_version
    base = compose_labels.project_labels(
        facts.working_dir or facts.project_dir, list(facts.config_files), version
    )
    for name, plan in services.items():
        entries = plan.args.get("labels")  # the file's own; `replica_args` has them all
        # A `required: false` dependency outside the active profiles is not listed, as in Compose.
        depends_on = {k: v for k, v in (raw[name].get("depends_on") or {}).items() if k in services}
        plan.replica_args = [
            {
                "labels": compose_labels.merged(
                    entries,
                    compose_labels.container_labels(
                        project, name, n, depends_on, base, facts.service_hashes.get(name)
                    ),
                )
            }
            for n in range(1, len(plan.container_names) + 1)
        ]
    for resource in (*networks, *volumes):
        if resource.external:
            continue
        kind = "network" if isinstance(resource, NetworkPlan) else "volume"
        key = resource.key if kind == "network" or resource.key in named else None
        labels = compose_labels.resource_labels(project, kind, key, version)
        resource.args["labels"] = compose_labels.merged(resource.args.get("labels"), labels)


def _service(
    name: str,
    raw: Mapping[str, Any],
    project: str,
    files: Mapping[str, Mapping[str, Any]],
    facts: HostFacts,
    report: Report,
) -> ServicePlan:
    where = f"service `{name}`"
    spec = report.check(where, SERVICE_KEYS, raw)
    deploy = report.check(where, DEPLOY_KEYS, spec.get("deploy") or {}, "deploy.")
    replicas = _replicas(spec, deploy, where, report)
    if spec.get("container_name"):
        names = [spec["container_name"]]
        if replicas != 1:
            report.problems.append(
                f"{where}: `container_name` with {replicas} replicas: Docker names must be "
                "unique; remove `container_name` or set one replica"
            )
    else:
        names = [f"{project}-{name}-{i}" for i in range(1, replicas + 1)]
    plan = ServicePlan(
        name=name,
        image=_image(name, spec, project, where, report),
        container_names=names,
        args=container_args(spec, deploy, where, report),
    )
    networking.attach(plan, spec, where, report)
    storage.mounts(plan, spec, facts, where, report)
    storage.files(plan, spec, files, facts, where, report)
    lifecycle.dependencies(plan, spec, where, report)
    return plan


def _replicas(
    spec: Mapping[str, Any], deploy: Mapping[str, Any], where: str, report: Report
) -> int:
    if "mode" in (spec.get("deploy") or {}) and spec["deploy"]["mode"] == "global":
        return 1
    replicas = deploy.get("replicas", spec.get("scale", 1))
    if not isinstance(replicas, int) or replicas < 0:
        report.problems.append(
            f"{where}: `deploy.replicas` must be a whole number >= 0, got {replicas!r}"
        )
        return 1
    return replicas


def _image(
    name: str, spec: Mapping[str, Any], project: str, where: str, report: Report
) -> ImagePlan:
    platform = spec.get("platform")
    build = spec.get("build")
    if build is None:
        if not spec.get("image"):
            report.problems.append(f"{where}: neither `image` nor `build`: add one of them")
            return ImagePlan(name=name)
        _warn_pull_policy(spec.get("pull_policy"), where, report)
        return ImagePlan(name=spec["image"], platform=platform)
    build = report.check(where, BUILD_KEYS, build, "build.")
    context = str(build.get("context", "."))
    args: dict[str, Any] = {"context": context}
    if build.get("dockerfile"):
        dockerfile = PurePosixPath(build["dockerfile"])
        args["dockerfile"] = str(
            dockerfile if dockerfile.is_absolute() else PurePosixPath(context) / dockerfile
        )
    copy_keys(build, args, {"target": "target", "network": "network"})
    if build.get("labels"):  # Compose's config gives the mapping form
        args["labels"] = {k: str(v) for k, v in build["labels"].items()}
    if build.get("no_cache"):
        args["no_cache"] = True
    if build.get("args"):
        args["args"] = {k: str(v) for k, v in build["args"].items() if v is not None}
    if build.get("cache_from"):
        args["cache_from"] = {"images": list(build["cache_from"])}
    if build.get("extra_hosts"):
        args["add_hosts"] = [host_entry(h) for h in build["extra_hosts"]]
    platforms = build.get("platforms") or []
    if len(platforms) > 1:
        report.reject(
            where, "build.platforms", "one host runs one platform: list a single platform"
        )
    if platforms or platform:
        args["platform"] = platform or platforms[0]
    return ImagePlan(name=spec.get("image") or f"{project}-{name}", build=args, platform=platform)


def _warn_pull_policy(policy: str | None, where: str, report: Report) -> None:
    if policy in (None, "missing", "if_not_present", "build"):
        return
    report.warn(
        where,
        f"pull_policy: {policy}",
        "Pulumi pulls an image when its reference changes; pin a tag or digest to roll forward",
    )
