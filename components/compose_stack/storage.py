"""Storage: top-level volumes, a service's `volumes`/`volumes_from`, secrets and configs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.compose_stack.plan import (
    Dependency,
    Mount,
    ProjectCopy,
    ServicePlan,
    Upload,
    VolumePlan,
    anonymous_volume_name,
)
from components.compose_stack.project_binds import kept_path
from components.compose_stack.report import FileInfo, HostFacts, Report
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
            extra = {"no_copy": bool(options.get("nocopy")), "subpath": options.get("subpath")}
            if entry.get("source"):
                plan.mounts.append(Mount("volume", target, entry["source"], read_only, **extra))
            else:
                plan.mounts.append(Mount("anonymous", target, read_only=read_only, **extra))
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
    if bind.get("propagation") and bind.get("selinux"):
        report.reject(
            where,
            f"volumes: {target} bind.propagation with bind.selinux",
            "the provider's mounts with propagation cannot relabel: drop one of them",
        )
    if bind.get("create_host_path") is False:
        report.warn(
            where, f"volumes: {target} bind.create_host_path", "Docker creates a missing host path"
        )
    in_project = is_within(source, facts.project_dir)
    info = facts.stat(source) if in_project and read_only else None
    if info is not None and not plan.args.get("read_only"):
        # A read-only project file is shipped with the deployment (remote hosts too), with
        # the mode and owner it has here, as a bind mount would show them.
        plan.uploads.append(Upload(target=target, source=source, **_same_mode(info)))
        return
    kept = _kept_in_binds_folder(plan, source, facts)
    if kept is not None:
        source = kept
    elif info is not None:
        _warn_checkout_bind(where, source, target, report)
    if info is None and in_project and facts.remote_docker_host:
        report.warnings.append(
            f"{where}: bind mount {source} -> {target} refers to this machine's project folder; "
            "on the remote Docker host the same path must exist (or make it a read-only file "
            "so that Slipway uploads it)"
        )
    plan.mounts.append(
        Mount(
            "bind",
            target,
            source,
            read_only,
            bind.get("selinux"),
            propagation=bind.get("propagation"),
        )
    )


def _kept_in_binds_folder(plan: ServicePlan, source: str, facts: HostFacts) -> str | None:
    """Under the deploy service, where a bind of the checkout path `source` is kept (and the
    copy that puts the commit's files there); None for other paths, or by hand."""
    checkout = facts.checkout_dir or facts.project_dir
    if not facts.binds_dir or not is_within(source, checkout):
        return None
    kept = kept_path(source, checkout, facts.binds_dir)
    plan.project_copies.append(ProjectCopy(checkout=source, kept=kept))
    return kept


def _warn_checkout_bind(where: str, source: str, target: str, report: Report) -> None:
    """A project file that a `read_only` service gets as a bind mount (nothing can be copied
    into a read-only container): the path must stay on the Docker host."""
    report.warnings.append(
        f"{where}: {source} -> {target} is bind-mounted (a `read_only` service cannot get a "
        "copy): the path must exist on the Docker host for as long as the container runs; "
        "drop `read_only` to ship a copy, or put the file in the image or a volume"
    )


def _same_mode(info: FileInfo) -> dict[str, str]:
    """Upload keywords that give the copy the mode and owner of the file it copies."""
    out = {}
    if info.mode is not None:
        out["permissions"] = octal(info.mode)
    if info.uid is not None:
        out["owner"] = str(info.uid)
    if info.gid is not None:
        out["group"] = str(info.gid)
    return out


def _requested_mode(ref: Mapping[str, Any]) -> dict[str, str]:
    """`uid`, `gid` and `mode` of a secret/config reference (default mode 0444, as Compose)."""
    out = {"permissions": octal(ref["mode"]) if ref.get("mode") is not None else "0444"}
    if ref.get("uid") is not None:
        out["owner"] = str(ref["uid"])
    if ref.get("gid") is not None:
        out["group"] = str(ref["gid"])
    return out


def files(
    plan: ServicePlan,
    spec: Mapping[str, Any],
    top_files: Mapping[str, Mapping[str, Any]],
    facts: HostFacts,
    where: str,
    report: Report,
) -> None:
    """Secrets and configs, as Compose does outside Swarm.

    A `file` one is the host file, read-only, with its own mode and owner (the reference's
    `uid`/`gid`/`mode` are ignored, with a warning); Slipway uploads a copy with that mode and
    owner (a bind mount in a `read_only` service, where nothing can be copied in). An
    `environment` or `content` one is written into the container with the reference's
    `uid`/`gid`/`mode` (default 0444); a `read_only` service cannot have one.
    """
    for kind, default_dir in (("secrets", "/run/secrets"), ("configs", "")):
        for ref in spec.get(kind) or []:
            ref = {"source": ref} if isinstance(ref, str) else ref
            _file(
                plan,
                kind,
                default_dir,
                ref,
                top_files[kind].get(ref["source"]),
                facts,
                where,
                report,
            )


def _file(
    plan: ServicePlan,
    kind: str,
    default_dir: str,
    ref: Mapping[str, Any],
    top: Mapping[str, Any] | None,
    facts: HostFacts,
    where: str,
    report: Report,
) -> None:
    source = ref["source"]
    target = ref.get("target") or source
    if not target.startswith("/"):
        target = f"{default_dir}/{target}"
    secret = kind == "secrets"
    key = f"{kind}: {source}"
    if top is None or top.get("external"):
        report.reject(
            where,
            key,
            f"only `file`, `environment` or `content` {kind} exist outside Swarm: "
            "define it at top level",
        )
        return
    if top.get("file"):
        info = facts.stat(top["file"])
        if info is None:
            report.reject(
                where, key, f"{top['file']} is not a file on this machine: create it or fix `file`"
            )
            return
        if any(ref.get(k) is not None for k in ("uid", "gid", "mode")):
            report.warn(
                where,
                f"{key} uid/gid/mode",
                "outside Swarm Compose mounts the file with its own mode and owner; "
                "set them on the file (chmod/chown)",
            )
        if plan.args.get("read_only"):
            source = _kept_in_binds_folder(plan, top["file"], facts)
            if source is None and is_within(top["file"], facts.project_dir):
                _warn_checkout_bind(where, top["file"], target, report)
            plan.mounts.append(Mount("bind", target, source or top["file"], read_only=True))
        else:
            plan.uploads.append(
                Upload(target, source=top["file"], secret=secret, **_same_mode(info))
            )
        return
    if plan.args.get("read_only") and (top.get("environment") or top.get("content") is not None):
        report.reject(
            where,
            key,
            "a `read_only` service cannot have a file written into it (Compose refuses it too): "
            "use a `file` one",
        )
        return
    if top.get("environment"):
        variable = top["environment"]
        if variable not in facts.environ:
            report.reject(
                where,
                key,
                f"environment variable {variable} is not set where Pulumi runs: export it",
            )
            return
        content, secret = facts.environ[variable], True
    elif top.get("content") is not None:
        content = top["content"]
    else:
        report.reject(where, key, "give it a `file`, `environment` or `content`")
        return
    plan.uploads.append(Upload(target, content=content, secret=secret, **_requested_mode(ref)))
