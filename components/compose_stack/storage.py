"""Storage: top-level volumes, a service's `volumes`/`volumes_from`, secrets and configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.compose_stack.plan import (
    Dependency,
    Mount,
    ServicePlan,
    Upload,
    VolumePlan,
    anonymous_volume_name,
)
from components.compose_stack.report import HostFacts, Report
from components.compose_stack.support import VOLUME_KEYS
from components.compose_stack.values import is_within, labels, octal, strings


def volume(key: str, spec: Mapping[str, Any], report: Report) -> VolumePlan:
    """A top-level Compose volume as a docker.Volume (or an external one, used by name)."""
    spec = report.check(f"volume `{key}`", VOLUME_KEYS, spec)
    name = spec.get("name", key)
    if spec.get("external"):
        return VolumePlan(key=key, name=name, external=True)
    args: dict[str, Any] = {"name": name}
    if spec.get("driver"):
        args["driver"] = spec["driver"]
    if spec.get("driver_opts"):
        args["driver_opts"] = strings(spec["driver_opts"])
    if spec.get("labels"):
        args["labels"] = labels(spec["labels"])
    return VolumePlan(key=key, name=name, external=False, args=args)


def anonymous_volumes(plan: ServicePlan) -> list[VolumePlan]:
    """One managed volume per anonymous volume (`- /path`) and container of `plan`."""
    targets = [m.container_path for m in plan.mounts if m.kind == "anonymous"]
    out = []
    for container in plan.container_names:
        for target in targets:
            name = anonymous_volume_name(container, str(target))
            out.append(VolumePlan(key=name, name=name, external=False, args={"name": name}))
    return out


def mounts(
    plan: ServicePlan, spec: Mapping[str, Any], facts: HostFacts, where: str, report: Report
) -> None:
    """A service's `volumes` and `volumes_from` as mounts, uploads and tmpfs."""
    for entry in spec.get("volumes") or []:
        kind, target = entry.get("type"), entry.get("target")
        read_only = bool(entry.get("read_only"))
        if kind == "volume":
            options = entry.get("volume") or {}
            for key in ("nocopy", "subpath"):
                if options.get(key):
                    report.reject(
                        where,
                        f"volumes: {target} volume.{key}",
                        "pulumi-docker volume binds cannot set it: remove it",
                    )
            if entry.get("source"):
                plan.mounts.append(Mount("volume", target, entry["source"], read_only))
            else:
                plan.mounts.append(Mount("anonymous", target))
        elif kind == "bind":
            _bind(plan, entry, facts, where, report)
        elif kind == "tmpfs":
            tmpfs = entry.get("tmpfs") or {}
            options = []
            if tmpfs.get("size"):
                options.append(f"size={tmpfs['size']}")
            if tmpfs.get("mode") is not None:
                options.append(f"mode={int(tmpfs['mode']):o}")
            plan.args.setdefault("tmpfs", {})[target] = ",".join(options)
        else:
            report.reject(
                where, f"volumes: type {kind}", "use a named volume, a bind mount or tmpfs"
            )
    for entry in spec.get("volumes_from") or []:
        is_container = entry.startswith("container:")
        source, _, mode = entry.removeprefix("container:").partition(":")
        if is_container:
            plan.mounts.append(Mount("from_container", source=source, read_only=mode == "ro"))
        else:
            plan.mounts.append(Mount("from_service", source=source, read_only=mode == "ro"))
            plan.depends_on.append(Dependency(source, "started"))


def _bind(
    plan: ServicePlan, entry: Mapping[str, Any], facts: HostFacts, where: str, report: Report
) -> None:
    source, target = entry["source"], entry["target"]
    read_only = bool(entry.get("read_only"))
    bind = entry.get("bind") or {}
    if bind.get("propagation"):
        report.reject(
            where,
            f"volumes: {target} bind.propagation",
            "pulumi-docker binds cannot set propagation: remove it",
        )
    if bind.get("create_host_path") is False:
        report.warn(
            where, f"volumes: {target} bind.create_host_path", "Docker creates a missing host path"
        )
    in_project = is_within(source, facts.project_dir)
    if in_project and read_only and facts.is_file(source):
        # A read-only project file is shipped with the deployment, so it works on remote hosts too.
        plan.uploads.append(Upload(target=target, source=source))
        return
    if in_project and facts.remote_docker_host:
        report.warnings.append(
            f"{where}: bind mount {source} -> {target} refers to this machine's project folder; "
            "on the remote Docker host the same path must exist (or make it a read-only file "
            "so that Slipway uploads it)"
        )
    plan.mounts.append(Mount("bind", target, source, read_only, bind.get("selinux")))


def files(
    plan: ServicePlan,
    spec: Mapping[str, Any],
    top_files: Mapping[str, Mapping[str, Any]],
    facts: HostFacts,
    where: str,
    report: Report,
) -> None:
    """Secrets and configs: Compose bind-mounts them outside Swarm; Slipway uploads them."""
    for kind, default_dir in (("secrets", "/run/secrets"), ("configs", "")):
        for ref in spec.get(kind) or []:
            ref = {"source": ref} if isinstance(ref, str) else ref
            source = ref["source"]
            top = top_files[kind].get(source)
            target = ref.get("target") or source
            if not target.startswith("/"):
                target = f"{default_dir}/{target}"
            owner = {"owner": str(ref["uid"])} if ref.get("uid") is not None else {}
            group = {"group": str(ref["gid"])} if ref.get("gid") is not None else {}
            mode = {"permissions": octal(ref["mode"])} if ref.get("mode") is not None else {}
            secret = kind == "secrets"
            if top is None or top.get("external"):
                report.reject(
                    where,
                    f"{kind}: {source}",
                    f"only `file`, `environment` or `content` {kind} exist outside Swarm: "
                    "define it at top level",
                )
            elif top.get("file") and not facts.is_file(top["file"]):
                report.reject(
                    where,
                    f"{kind}: {source}",
                    f"{top['file']} is not a file on this machine: create it or fix `file`",
                )
            elif top.get("file"):
                plan.uploads.append(
                    Upload(target, source=top["file"], secret=secret, **owner, **group, **mode)
                )
            elif top.get("environment"):
                variable = top["environment"]
                if variable not in facts.environ:
                    report.reject(
                        where,
                        f"{kind}: {source}",
                        f"environment variable {variable} is not set where Pulumi runs: export it",
                    )
                    continue
                plan.uploads.append(
                    Upload(
                        target,
                        content=facts.environ[variable],
                        secret=True,
                        **owner,
                        **group,
                        **mode,
                    )
                )
            elif top.get("content") is not None:
                plan.uploads.append(
                    Upload(target, content=top["content"], secret=secret, **owner, **group, **mode)
                )
            else:
                report.reject(
                    where, f"{kind}: {source}", "give it a `file`, `environment` or `content`"
                )
