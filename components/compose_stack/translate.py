"""Translate Docker Compose's resolved model into a StackPlan (pure: no I/O, no Pulumi).

Input is the JSON of `docker compose config --format json`: interpolation, `env_file`,
`extends`, anchors and short syntax are already resolved. Every key is checked against the
tables in `support.py`: translated, warned (does not apply to one host) or rejected. All
problems are collected and raised together so one run shows everything to fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from components.compose_stack.plan import (
    Dependency,
    ImagePlan,
    Mount,
    NetworkAttachment,
    NetworkPlan,
    ServicePlan,
    StackPlan,
    Upload,
    VolumePlan,
)
from components.compose_stack.support import (
    BUILD_KEYS,
    DEPLOY_KEYS,
    NETWORK_KEYS,
    SERVICE_KEYS,
    TOP_LEVEL_KEYS,
    VOLUME_KEYS,
    Rule,
    Support,
)

MIB = 1024 * 1024
DEFAULT_WAIT_SECONDS = 60
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


class ComposeTranslationError(Exception):
    """The Compose model uses keys that cannot be declared; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{len(problems)} Compose setting(s) cannot be deployed (see "
            f"docs/compose-support.md):\n{lines}"
        )


@dataclass(frozen=True)
class HostFacts:
    """What translation may know about the machine running Pulumi, injected for purity."""

    project_dir: str  # Compose's project directory (absolute)
    is_file: Callable[[str], bool] = lambda _path: False
    environ: Mapping[str, str] = field(default_factory=dict)
    remote_docker_host: bool = False


@dataclass
class _Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, where: str, key: str, fix: str) -> None:
        self.problems.append(f"{where}: `{key}` is not supported: {fix}")

    def warn(self, where: str, key: str, why: str) -> None:
        self.warnings.append(f"{where}: `{key}` is ignored: {why}")

    def check(
        self, where: str, table: Mapping[str, Rule], mapping: Mapping[str, Any], prefix: str = ""
    ) -> dict[str, Any]:
        """Report warned/rejected/unknown keys; return the keys to translate (non-null)."""
        kept: dict[str, Any] = {}
        for key, value in mapping.items():
            if value is None or key.startswith("x-"):
                continue
            rule = table.get(key)
            name = prefix + key
            if rule is None:
                self.reject(
                    where,
                    name,
                    "Slipway does not know this key; remove it, or teach "
                    "components/compose_stack/support.py about it",
                )
            elif rule.support is Support.REJECTED:
                self.reject(where, name, rule.note)
            elif rule.support is Support.WARNED:
                if value in ({}, []):
                    continue  # Compose writes e.g. `placement: {}` for every `deploy`
                self.warn(where, name, rule.note)
            else:
                kept[key] = value
        return kept


def translate_model(model: Mapping[str, Any], project: str, facts: HostFacts) -> StackPlan:
    """Build the StackPlan for `project` from Compose's resolved `model`.

    Raises ComposeTranslationError listing every setting that cannot be deployed.
    """
    report = _Report()
    top = report.check("top-level", TOP_LEVEL_KEYS, model)
    networks = [
        _network(key, spec or {}, report) for key, spec in (top.get("networks") or {}).items()
    ]
    volumes = [_volume(key, spec or {}, report) for key, spec in (top.get("volumes") or {}).items()]
    files = {"secrets": top.get("secrets") or {}, "configs": top.get("configs") or {}}
    raw_services: Mapping[str, Any] = top.get("services") or {}
    services = {
        name: _service(name, spec, project, files, facts, report)
        for name, spec in raw_services.items()
    }
    _apply_links(raw_services, services, report)
    _mark_waited_dependencies(services, report)
    _check_container_references(services, report)
    if report.problems:
        raise ComposeTranslationError(report.problems)
    return StackPlan(
        project=project,
        networks=networks,
        volumes=volumes,
        services=_dependency_order(services),
        warnings=report.warnings,
    )


# --- networks and volumes -------------------------------------------------------------


def _network(key: str, spec: Mapping[str, Any], report: _Report) -> NetworkPlan:
    where = f"network `{key}`"
    spec = report.check(where, NETWORK_KEYS, spec)
    name = spec.get("name", key)
    if spec.get("external"):
        return NetworkPlan(key=key, name=name, external=True)
    args: dict[str, Any] = {"name": name}
    _copy(
        spec,
        args,
        {
            "driver": "driver",
            "internal": "internal",
            "attachable": "attachable",
            "enable_ipv6": "ipv6",
        },
    )
    if spec.get("driver_opts"):
        args["options"] = _strings(spec["driver_opts"])
    if spec.get("labels"):
        args["labels"] = _labels(spec["labels"])
    ipam = spec.get("ipam") or {}
    if ipam.get("driver"):
        args["ipam_driver"] = ipam["driver"]
    if ipam.get("options"):
        args["ipam_options"] = _strings(ipam["options"])
    if ipam.get("config"):
        args["ipam_configs"] = [_ipam_config(c) for c in ipam["config"]]
    return NetworkPlan(key=key, name=name, external=False, args=args)


def _ipam_config(config: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: config[k] for k in ("subnet", "gateway", "ip_range") if config.get(k)}
    if config.get("aux_addresses"):
        out["aux_address"] = _strings(config["aux_addresses"])
    return out


def _volume(key: str, spec: Mapping[str, Any], report: _Report) -> VolumePlan:
    spec = report.check(f"volume `{key}`", VOLUME_KEYS, spec)
    name = spec.get("name", key)
    if spec.get("external"):
        return VolumePlan(key=key, name=name, external=True)
    args: dict[str, Any] = {"name": name}
    if spec.get("driver"):
        args["driver"] = spec["driver"]
    if spec.get("driver_opts"):
        args["driver_opts"] = _strings(spec["driver_opts"])
    if spec.get("labels"):
        args["labels"] = _labels(spec["labels"])
    return VolumePlan(key=key, name=name, external=False, args=args)


# --- services --------------------------------------------------------------------------


def _service(
    name: str,
    raw: Mapping[str, Any],
    project: str,
    files: Mapping[str, Mapping[str, Any]],
    facts: HostFacts,
    report: _Report,
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
        args=_container_args(spec, deploy, where, report),
    )
    _networking(plan, spec, where, report)
    _volumes(plan, spec, facts, where, report)
    _files(plan, spec, files, facts, where, report)
    _dependencies(plan, spec, where, report)
    return plan


def _replicas(
    spec: Mapping[str, Any], deploy: Mapping[str, Any], where: str, report: _Report
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
    name: str, spec: Mapping[str, Any], project: str, where: str, report: _Report
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
    _copy(build, args, {"target": "target", "network": "network"})
    if build.get("args"):
        args["args"] = {k: str(v) for k, v in build["args"].items() if v is not None}
    if build.get("cache_from"):
        args["cache_from"] = {"images": list(build["cache_from"])}
    if build.get("extra_hosts"):
        args["add_hosts"] = [_host_entry(h) for h in build["extra_hosts"]]
    platforms = build.get("platforms") or []
    if len(platforms) > 1:
        report.reject(
            where, "build.platforms", "one host runs one platform: list a single platform"
        )
    if platforms or platform:
        args["platform"] = platform or platforms[0]
    return ImagePlan(name=spec.get("image") or f"{project}-{name}", build=args, platform=platform)


def _warn_pull_policy(policy: str | None, where: str, report: _Report) -> None:
    if policy in (None, "missing", "if_not_present", "build"):
        return
    report.warn(
        where,
        f"pull_policy: {policy}",
        "Pulumi pulls an image when its reference changes; pin a tag or digest to roll forward",
    )


_DIRECT = {
    "command": "command",
    "entrypoint": "entrypoints",
    "user": "user",
    "working_dir": "working_dir",
    "hostname": "hostname",
    "domainname": "domainname",
    "dns": "dns",
    "dns_opt": "dns_opts",
    "dns_search": "dns_searches",
    "device_cgroup_rules": "device_cgroup_rules",
    "group_add": "group_adds",
    "init": "init",
    "privileged": "privileged",
    "read_only": "read_only",
    "stdin_open": "stdin_open",
    "tty": "tty",
    "pid": "pid_mode",
    "ipc": "ipc_mode",
    "userns_mode": "userns_mode",
    "cgroup": "cgroupns_mode",
    "cgroup_parent": "cgroup_parent",
    "runtime": "runtime",
    "security_opt": "security_opts",
    "stop_signal": "stop_signal",
    "cpuset": "cpu_set",
    "cpu_shares": "cpu_shares",
    "cpu_quota": "cpu_quota",
    "cpu_period": "cpu_period",
    "platform": "platform",
}


def _container_args(
    spec: Mapping[str, Any], deploy: Mapping[str, Any], where: str, report: _Report
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    _copy(spec, args, _DIRECT)
    for key in (
        "command",
        "entrypoints",
        "dns",
        "dns_opts",
        "dns_searches",
        "group_adds",
        "security_opts",
    ):
        if key in args:
            args[key] = [str(v) for v in args[key]]
    env = spec.get("environment") or {}
    # A variable listed without a value and unset where Compose ran stays unset, as in Compose.
    args["envs"] = [f"{k}={v}" for k, v in sorted(env.items()) if v is not None]
    if spec.get("labels"):
        args["labels"] = _labels(spec["labels"])
    if spec.get("ports"):
        args["ports"] = [p for p in (_port(p, where, report) for p in spec["ports"]) if p]
    if spec.get("tmpfs"):
        args["tmpfs"] = dict(_tmpfs_entry(t) for t in spec["tmpfs"])
    if spec.get("extra_hosts"):
        args["hosts"] = [_host_entry(h) for h in spec["extra_hosts"]]
    if spec.get("cap_add") or spec.get("cap_drop"):
        args["capabilities"] = {
            "adds": list(spec.get("cap_add") or []),
            "drops": list(spec.get("cap_drop") or []),
        }
    if spec.get("sysctls"):
        args["sysctls"] = _strings(spec["sysctls"])
    if spec.get("storage_opt"):
        args["storage_opts"] = _strings(spec["storage_opt"])
    if spec.get("ulimits"):
        args["ulimits"] = [_ulimit(k, v) for k, v in spec["ulimits"].items()]
    if spec.get("logging"):
        _copy(spec["logging"], args, {"driver": "log_driver"})
        if spec["logging"].get("options"):
            args["log_opts"] = _strings(spec["logging"]["options"])
    if spec.get("devices"):
        args["devices"] = [_device(d) for d in spec["devices"]]
    if spec.get("gpus"):
        _gpus(spec["gpus"], args)
    if spec.get("stop_grace_period"):
        seconds = math.ceil(parse_duration(spec["stop_grace_period"]))
        args["stop_timeout"] = seconds
        args["destroy_grace_seconds"] = seconds
    if spec.get("healthcheck"):
        args["healthcheck"] = _healthcheck(spec["healthcheck"])
    _restart(spec, deploy, args, where, report)
    _resources(spec, deploy, args, where, report)
    return args


def _port(port: Mapping[str, Any], where: str, report: _Report) -> dict[str, Any] | None:
    published = str(port.get("published") or "")
    if "-" in published:
        report.reject(
            where,
            f"ports: {published}:{port['target']}",
            "a host port range for one container port: pick one host port",
        )
        return None
    out: dict[str, Any] = {"internal": int(port["target"]), "protocol": port.get("protocol", "tcp")}
    if published:
        out["external"] = int(published)
    if port.get("host_ip"):
        out["ip"] = port["host_ip"]
    return out


def _tmpfs_entry(entry: str) -> tuple[str, str]:
    path, _, options = entry.partition(":")
    return path, options


def _host_entry(entry: str) -> dict[str, str]:
    host, sep, ip = entry.partition("=")
    if not sep:
        host, _, ip = entry.partition(":")
    return {"host": host, "ip": ip}


def _ulimit(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {"name": name, "soft": int(value["soft"]), "hard": int(value["hard"])}
    return {"name": name, "soft": int(value), "hard": int(value)}


def _device(device: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(device, str):
        parts = device.split(":")
        device = {"source": parts[0], "target": parts[1] if len(parts) > 1 else parts[0]}
        if len(parts) > 2:
            device["permissions"] = parts[2]
    out = {
        "host_path": device["source"],
        "container_path": device.get("target") or device["source"],
    }
    if device.get("permissions"):
        out["permissions"] = device["permissions"]
    return out


def _gpus(gpus: list[Mapping[str, Any]], args: dict[str, Any]) -> None:
    if len(gpus) == 1 and gpus[0].get("count") == -1 and len(gpus[0]) == 1:
        args["gpus"] = "all"
        return
    args.setdefault("device_requests", []).extend(
        _device_request({"capabilities": ["gpu"], **g}) for g in gpus
    )


def _device_request(request: Mapping[str, Any]) -> dict[str, Any]:
    capabilities = request.get("capabilities") or []
    flat = [c for group in capabilities for c in (group if isinstance(group, list) else [group])]
    out: dict[str, Any] = {"capabilities": flat}
    if request.get("count") is not None:
        out["count"] = -1 if request["count"] == "all" else int(request["count"])
    if request.get("device_ids"):
        out["device_ids"] = list(request["device_ids"])
    if request.get("driver"):
        out["driver"] = request["driver"]
    if request.get("options"):
        out["options"] = _strings(request["options"])
    return out


def _healthcheck(check: Mapping[str, Any]) -> dict[str, Any]:
    if check.get("disable"):
        return {"tests": ["NONE"]}
    out: dict[str, Any] = {}
    test = check.get("test")
    if test:
        out["tests"] = [test] if isinstance(test, str) else [str(t) for t in test]
    _copy(
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


def _restart(
    spec: Mapping[str, Any],
    deploy: Mapping[str, Any],
    args: dict[str, Any],
    where: str,
    report: _Report,
) -> None:
    policy = deploy.get("restart_policy") or {}
    restart = spec.get("restart")
    if restart is None and policy:
        restart = {"none": "no", "on-failure": "on-failure", "any": "always"}.get(
            policy.get("condition", "any"), "always"
        )
        if policy.get("max_attempts") is not None:
            restart = f"{restart}:{policy['max_attempts']}"
        for key in ("delay", "window"):
            if key in policy:
                report.warn(
                    where,
                    f"deploy.restart_policy.{key}",
                    "Docker restarts with its own back-off on one host",
                )
    restart = str(restart or "no")
    name, _, retries = restart.partition(":")
    args["restart"] = name
    if retries:
        args["max_retry_count"] = int(retries)


def _resources(
    spec: Mapping[str, Any],
    deploy: Mapping[str, Any],
    args: dict[str, Any],
    where: str,
    report: _Report,
) -> None:
    resources = deploy.get("resources") or {}
    limits = resources.get("limits") or {}
    reservations = resources.get("reservations") or {}
    cpus = limits.get("cpus", spec.get("cpus"))
    if cpus is not None:
        args["cpus"] = _number_text(cpus)
    memory = limits.get("memory", spec.get("mem_limit"))
    if memory is not None:
        args["memory"] = to_mib(memory)
    reserved = reservations.get("memory", spec.get("mem_reservation"))
    if reserved is not None:
        args["memory_reservation"] = to_mib(reserved)
    if spec.get("memswap_limit") is not None:
        swap = int(spec["memswap_limit"])
        args["memory_swap"] = -1 if swap < 0 else to_mib(swap)
    if spec.get("shm_size") is not None:
        args["shm_size"] = to_mib(spec["shm_size"])
    if limits.get("pids") is not None:
        report.reject(
            where, "deploy.resources.limits.pids", "pulumi-docker cannot limit pids: remove it"
        )
    if reservations.get("cpus") is not None:
        report.warn(
            where,
            "deploy.resources.reservations.cpus",
            "Docker has no CPU reservation on one host; use `cpus` limits or `cpu_shares`",
        )
    if reservations.get("generic_resources"):
        report.reject(
            where,
            "deploy.resources.reservations.generic_resources",
            "Swarm-only: use `devices` or `gpus`",
        )
    if reservations.get("devices"):
        args.setdefault("device_requests", []).extend(
            _device_request(d) for d in reservations["devices"]
        )


# --- networks, volumes and files of a service --------------------------------------------


def _networking(plan: ServicePlan, spec: Mapping[str, Any], where: str, report: _Report) -> None:
    mode = spec.get("network_mode")
    if mode:
        if mode.startswith("service:"):
            plan.network_mode_service = mode.removeprefix("service:")
            plan.depends_on.append(Dependency(plan.network_mode_service, "started"))
        else:
            plan.args["network_mode"] = mode
        return
    for key, attachment in (spec.get("networks") or {}).items():
        attachment = attachment or {}
        aliases = [plan.name, *(a for a in attachment.get("aliases") or [] if a != plan.name)]
        extra = {}
        _copy(
            attachment,
            extra,
            {
                "ipv4_address": "ipv4_address",
                "ipv6_address": "ipv6_address",
                "mac_address": "mac_address",
                "link_local_ips": "link_local_ips",
                "gw_priority": "gw_priority",
            },
        )
        if attachment.get("driver_opts"):
            extra["driver_opts"] = [f"{k}={v}" for k, v in attachment["driver_opts"].items()]
        if attachment.get("priority") is not None:
            report.warn(
                where, f"networks.{key}.priority", "attachment order does not matter on one host"
            )
        plan.networks.append(NetworkAttachment(network=key, aliases=tuple(aliases), args=extra))


def _volumes(
    plan: ServicePlan, spec: Mapping[str, Any], facts: HostFacts, where: str, report: _Report
) -> None:
    for volume in spec.get("volumes") or []:
        kind, target = volume.get("type"), volume.get("target")
        read_only = bool(volume.get("read_only"))
        if kind == "volume":
            options = volume.get("volume") or {}
            for key in ("nocopy", "subpath"):
                if options.get(key):
                    report.reject(
                        where,
                        f"volumes: {target} volume.{key}",
                        "pulumi-docker volume binds cannot set it: remove it",
                    )
            if volume.get("source"):
                plan.mounts.append(Mount("volume", target, volume["source"], read_only))
            else:
                plan.mounts.append(Mount("anonymous", target))
        elif kind == "bind":
            _bind(plan, volume, facts, where, report)
        elif kind == "tmpfs":
            tmpfs = volume.get("tmpfs") or {}
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
    plan: ServicePlan, volume: Mapping[str, Any], facts: HostFacts, where: str, report: _Report
) -> None:
    source, target = volume["source"], volume["target"]
    read_only = bool(volume.get("read_only"))
    bind = volume.get("bind") or {}
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
    in_project = _is_within(source, facts.project_dir)
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


def _files(
    plan: ServicePlan,
    spec: Mapping[str, Any],
    files: Mapping[str, Mapping[str, Any]],
    facts: HostFacts,
    where: str,
    report: _Report,
) -> None:
    """Secrets and configs: Compose bind-mounts them outside Swarm; Slipway uploads them."""
    for kind, default_dir in (("secrets", "/run/secrets"), ("configs", "")):
        for ref in spec.get(kind) or []:
            ref = {"source": ref} if isinstance(ref, str) else ref
            source = ref["source"]
            top = files[kind].get(source)
            target = ref.get("target") or source
            if not target.startswith("/"):
                target = f"{default_dir}/{target}"
            owner = {"owner": str(ref["uid"])} if ref.get("uid") is not None else {}
            group = {"group": str(ref["gid"])} if ref.get("gid") is not None else {}
            mode = {"permissions": _octal(ref["mode"])} if ref.get("mode") is not None else {}
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


def _dependencies(plan: ServicePlan, spec: Mapping[str, Any], where: str, report: _Report) -> None:
    conditions = {
        "service_started": "started",
        "service_healthy": "healthy",
        "service_completed_successfully": "completed",
    }
    for service, dep in (spec.get("depends_on") or {}).items():
        dep = dep or {}
        condition = conditions.get(dep.get("condition", "service_started"))
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


def _apply_links(raw: Mapping[str, Any], services: dict[str, ServicePlan], report: _Report) -> None:
    """`links: [db:database]` becomes alias `database` of `db` on the networks both share."""
    for name, spec in raw.items():
        for link in spec.get("links") or []:
            target, _, alias = link.partition(":")
            linked = services.get(target)
            if linked is None:
                report.reject(
                    f"service `{name}`", f"links: {link}", f"service {target} is not in this stack"
                )
                continue
            if not any(d.service == target for d in services[name].depends_on):
                services[name].depends_on.append(Dependency(target, "started"))
            if not alias or alias == target:
                continue
            shared = {a.network for a in services[name].networks}
            linked.networks = [
                NetworkAttachment(a.network, (*a.aliases, alias), a.args)
                if a.network in shared and alias not in a.aliases
                else a
                for a in linked.networks
            ]


def _check_container_references(services: dict[str, ServicePlan], report: _Report) -> None:
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


def _mark_waited_dependencies(services: dict[str, ServicePlan], report: _Report) -> None:
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


def _dependency_order(services: dict[str, ServicePlan]) -> list[ServicePlan]:
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


# --- small conversions --------------------------------------------------------------------


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Compose/Go duration (`1m30s`, `500ms`, `10s`, or a number of seconds)."""
    if isinstance(text, int | float):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30s, 1m30s, 500ms)")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def to_mib(size: str | int) -> int:
    """Bytes (as Compose resolves `256M`, `2g`) to whole MiB, rounded up."""
    return math.ceil(int(size) / MIB)


def _number_text(value: float | int | str) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _octal(mode: str | int) -> str:
    return mode if isinstance(mode, str) else f"{mode:o}"


def _strings(mapping: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in mapping.items()}


def _labels(labels: Mapping[str, Any] | list[str]) -> list[dict[str, str]]:
    if isinstance(labels, list):
        labels = dict(entry.partition("=")[::2] for entry in labels)
    return [{"label": k, "value": str(v)} for k, v in sorted(labels.items())]


def _copy(source: Mapping[str, Any], target: dict[str, Any], names: Mapping[str, str]) -> None:
    for src, dst in names.items():
        if source.get(src) is not None:
            target[dst] = source[src]


def _is_within(path: str, directory: str) -> bool:
    return PurePosixPath(path).is_relative_to(PurePosixPath(directory))
