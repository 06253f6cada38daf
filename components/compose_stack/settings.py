"""A service's container settings: the docker.Container keywords that need no other resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.compose_stack import lifecycle
from components.compose_stack.networking import in_read_order, ports
from components.compose_stack.report import Report
from components.compose_stack.values import (
    copy_keys,
    host_entry,
    labels,
    number_text,
    parse_duration,
    provider_set_order,
    strings,
    to_mib,
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


def container_args(
    spec: Mapping[str, Any], deploy: Mapping[str, Any], where: str, report: Report
) -> dict[str, Any]:
    """docker.Container keywords for `spec` (networks, mounts and files come separately)."""
    # Like Compose, never delete a container's anonymous volumes (an image's own VOLUMEs):
    # the provider's default would remove them, with their data, on every replacement.
    args: dict[str, Any] = {"remove_volumes": False}
    copy_keys(spec, args, _DIRECT)
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
    lifecycle.argv(args, where, report)
    for key in ("dns", "dns_searches"):
        if key in args:
            _check_order(key, args[key], where, report)
    env = spec.get("environment") or {}
    # A variable listed without a value and unset where Compose ran stays unset, as in Compose.
    args["envs"] = [f"{k}={v}" for k, v in sorted(env.items()) if v is not None]
    if spec.get("labels"):
        args["labels"] = labels(spec["labels"])
    if spec.get("ports"):
        args["ports"] = in_read_order(
            [p for entry in spec["ports"] for p in ports(entry, where, report)]
        )
    if spec.get("tmpfs"):
        args["tmpfs"] = dict(_tmpfs_entry(t) for t in spec["tmpfs"])
    if spec.get("extra_hosts"):
        args["hosts"] = [host_entry(h) for h in spec["extra_hosts"]]
    if spec.get("cap_add") or spec.get("cap_drop"):
        args["capabilities"] = {
            "adds": list(spec.get("cap_add") or []),
            "drops": list(spec.get("cap_drop") or []),
        }
    if spec.get("sysctls"):
        args["sysctls"] = strings(spec["sysctls"])
    if spec.get("storage_opt"):
        args["storage_opts"] = strings(spec["storage_opt"])
    if spec.get("ulimits"):
        args["ulimits"] = [_ulimit(k, v) for k, v in spec["ulimits"].items()]
    if spec.get("logging"):
        copy_keys(spec["logging"], args, {"driver": "log_driver"})
        if spec["logging"].get("options"):
            args["log_opts"] = strings(spec["logging"]["options"])
    if spec.get("devices"):
        args["devices"] = [_device(d) for d in spec["devices"]]
    if spec.get("gpus"):
        _gpus(spec["gpus"], args)
    if spec.get("stop_grace_period"):
        lifecycle.stop_grace(parse_duration(spec["stop_grace_period"]), args)
    if spec.get("healthcheck"):
        args["healthcheck"] = lifecycle.healthcheck(spec["healthcheck"], where, report)
    if spec.get("blkio_config"):
        _blkio(spec["blkio_config"], args, where, report)
    lifecycle.restart(spec, deploy, args, where, report)
    _resources(spec, deploy, args, where, report)
    return args


def _check_order(key: str, values: list[str], where: str, report: Report) -> None:
    """`dns` and `dns_search` are ordered (priority, which name wins); the provider keeps
    them as sets and passes them in its own order: refuse a list it would reorder."""
    order = provider_set_order(values)
    if order != values:
        name = {"dns": "dns", "dns_searches": "dns_search"}[key]
        report.reject(
            where,
            f"{name}: {values}",
            f"the docker provider keeps `{name}` as a set and would give Docker the order "
            f"{order}; write them in that order if it suits you, or keep one",
        )


_BLKIO_LIMITS = ("device_read_bps", "device_read_iops", "device_write_bps", "device_write_iops")


def _blkio(config: Mapping[str, Any], args: dict[str, Any], where: str, report: Report) -> None:
    """`blkio_config` limits as `device_read_bps` and friends; weights cannot be set."""
    for key in ("weight", "weight_device"):
        if config.get(key):
            report.reject(
                where,
                f"blkio_config.{key}",
                "pulumi-docker cannot set block IO weights: remove it (limits are supported)",
            )
    for key in _BLKIO_LIMITS:
        if config.get(key):
            args[key] = [_throttle(d) for d in config[key]]


def _throttle(device: Mapping[str, Any]) -> dict[str, Any]:
    """A `{path, rate}` entry (Compose writes `Path`/`Rate`, the rate in bytes or IO/s)."""
    path = device.get("path", device.get("Path"))
    rate = device.get("rate", device.get("Rate"))
    return {"path": path, "rate": int(rate)}


def _tmpfs_entry(entry: str) -> tuple[str, str]:
    path, _, options = entry.partition(":")
    return path, options


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
        out["options"] = strings(request["options"])
    return out


def _resources(
    spec: Mapping[str, Any],
    deploy: Mapping[str, Any],
    args: dict[str, Any],
    where: str,
    report: Report,
) -> None:
    resources = deploy.get("resources") or {}
    limits = resources.get("limits") or {}
    reservations = resources.get("reservations") or {}
    cpus = limits.get("cpus", spec.get("cpus"))
    if cpus is not None:
        args["cpus"] = number_text(cpus)
        if spec.get("cpu_period") is not None or spec.get("cpu_quota") is not None:
            report.reject(
                where,
                "cpus with cpu_period/cpu_quota",
                "Docker refuses both (Compose fails to create the container): keep `cpus` "
                "or `cpu_period`/`cpu_quota`",
            )
    memory = limits.get("memory", spec.get("mem_limit"))
    if memory is not None:
        args["memory"] = to_mib(memory)
    reserved = reservations.get("memory", spec.get("mem_reservation"))
    if reserved is not None:
        args["memory_reservation"] = to_mib(reserved)
    if spec.get("memswap_limit") is not None:
        swap = int(spec["memswap_limit"])
        args["memory_swap"] = -1 if swap < 0 else to_mib(swap)
    elif "memory" in args:
        # What the engine stores when only `memory` is given (Compose sends none): declared,
        # so the provider does not see `memorySwap` drop at every no-change `up`.
        args["memory_swap"] = 2 * args["memory"]
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
