"""One Compose service as the keywords of a Swarm service (pure).

Problems are appended to `problems` (refused: the deployment would differ from the file),
warnings to `warnings` (ignored as `docker stack deploy` ignores them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.compose_stack.values import host_entry
from components.swarm_stack import rules
from components.swarm_stack.deploy import deploy_args
from components.swarm_stack.images import service_image
from components.swarm_stack.plan import FileUse, SwarmService

STACK_LABEL = "com.docker.stack.namespace"  # what `docker stack ls/ps/services` read


def swarm_service(
    name: str,
    spec: Mapping[str, Any],
    project: str,
    volumes: Mapping[str, Mapping[str, Any]],
    problems: list[str],
    warnings: list[str],
    registry: str | None = None,
) -> SwarmService:
    """The Swarm service `<project>_<name>` for the Compose service `spec`; a `build:` is
    pushed to `registry` (`slipway:registry`) and deployed by digest (images.py)."""
    _check_keys(name, spec, problems, warnings, registry)
    image, build = service_image(name, spec, project, registry, problems, warnings)
    args = deploy_args(name, spec, problems)
    task = args.pop("task_spec")
    container = _container(name, spec, project, volumes, problems, warnings)
    container["image"] = image
    task["container_spec"] = container
    if spec.get("logging"):
        logging = spec["logging"]
        task["log_driver"] = {"name": logging.get("driver") or "json-file",
                              "options": dict(logging.get("options") or {})}  # fmt: skip
    args["task_spec"] = task
    ports = _ports(name, spec.get("ports") or [], problems)
    if ports:
        args["endpoint_spec"] = {**args.get("endpoint_spec", {}), "ports": ports}
    deploy_labels = dict((spec.get("deploy") or {}).get("labels") or {})
    args["labels"] = _labels({**deploy_labels, STACK_LABEL: project})
    networks = [
        (key, (name, *((attach or {}).get("aliases") or ())))
        for key, attach in (spec.get("networks") or {}).items()
    ]
    return SwarmService(
        name=name,
        service_name=f"{project}_{name}",
        args=args,
        networks=networks,
        secrets=[_file_use(u, "/run/secrets/") for u in spec.get("secrets") or []],
        configs=[_file_use(u, "/") for u in spec.get("configs") or []],
        build=build,
    )


def _check_keys(name: str, spec: Mapping[str, Any], problems, warnings, registry: str | None):
    ignored = sorted(k for k in spec if k in rules.IGNORED and k != "build")
    if "build" in spec and spec.get("image") and not registry:
        ignored.insert(0, "build")  # as docker stack deploy: the image is used, not built
    if ignored:
        warnings.append(
            f"service `{name}`: ignoring options Swarm does not support: {', '.join(ignored)} "
            "(as docker stack deploy does)"
        )
    for key in sorted(set(spec) & set(rules.DEPRECATED)):
        warnings.append(f"service `{name}`: ignoring `{key}`: {rules.DEPRECATED[key]}")
    for key in sorted(set(spec) & set(rules.FORBIDDEN)):
        problems.append(f"service `{name}`: `{key}` is not supported: {rules.FORBIDDEN[key]}")
    for key in sorted(set(spec) & rules.NO_PROVIDER_FIELD):
        problems.append(
            f"service `{name}`: `{key}` cannot be set on a Swarm service through the docker "
            "provider; remove it"
        )
    known = (rules.TRANSLATED | rules.ALREADY_RESOLVED | rules.IGNORED | set(rules.DEPRECATED)
             | set(rules.FORBIDDEN) | rules.NO_PROVIDER_FIELD | {"scale"})  # fmt: skip
    for key in sorted(k for k in spec if k not in known and not k.startswith("x-")):
        problems.append(f"service `{name}`: `{key}` is not supported on Swarm by Slipway")
    for other, dependency in (spec.get("depends_on") or {}).items():
        condition = (dependency or {}).get("condition", "service_started")
        if condition != "service_started":
            problems.append(
                f"service `{name}`: `depends_on.{other}.condition: {condition}`: Swarm starts "
                "services in no order and docker stack deploy refuses conditions; remove the "
                "condition (the deployment still waits until every service is healthy)"
            )


def _container(name, spec, project, volumes, problems, warnings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    simple = {
        "working_dir": "dir", "user": "user", "hostname": "hostname", "init": "init",
        "read_only": "read_only", "stop_signal": "stop_signal",
        "stop_grace_period": "stop_grace_period", "isolation": "isolation",
        "group_add": "groups", "cap_add": "cap_adds", "cap_drop": "cap_drops",
    }  # fmt: skip
    for key, target in simple.items():
        if spec.get(key) is not None:
            out[target] = spec[key]
    if spec.get("entrypoint") is not None:
        out["commands"] = list(spec["entrypoint"])
    if spec.get("command") is not None:
        out["args"] = list(spec["command"])
    environment = spec.get("environment") or {}
    if environment:
        out["env"] = {k: str(v) for k, v in environment.items() if v is not None}
    if spec.get("labels"):
        out["labels"] = _labels({**spec["labels"], STACK_LABEL: project})
    else:
        out["labels"] = _labels({STACK_LABEL: project})
    if spec.get("sysctls"):
        out["sysctl"] = {k: str(v) for k, v in spec["sysctls"].items()}
    if spec.get("extra_hosts"):
        hosts = spec["extra_hosts"]
        entries = [f"{h}={ip}" for h, ip in hosts.items()] if isinstance(hosts, dict) else hosts
        out["hosts"] = [host_entry(e) for e in entries]
    dns = {"dns": "nameservers", "dns_search": "searches", "dns_opt": "options"}
    dns_config = {t: list(spec[k]) for k, t in dns.items() if spec.get(k)}
    if dns_config:  # the provider requires nameservers; none keeps the node's resolvers
        out["dns_config"] = {"nameservers": [], **dns_config}
    if spec.get("healthcheck"):
        out["healthcheck"] = _healthcheck(spec["healthcheck"])
    mounts = [m for v in spec.get("volumes") or [] if (m := _mount(name, v, volumes, problems))]
    mounts += [{"type": "tmpfs", "target": path} for path in spec.get("tmpfs") or []]
    if any(m["type"] == "bind" for m in mounts):
        warnings.append(
            f"service `{name}`: bind mounts read the host path of whichever node runs the "
            "task: it must exist on every node the service may run on"
        )
    if mounts:
        out["mounts"] = mounts
    return out


def _healthcheck(check: Mapping[str, Any]) -> dict[str, Any]:
    if check.get("disable") or (check.get("test") or [""])[0] == "NONE":
        return {"tests": ["NONE"]}
    out: dict[str, Any] = {"tests": list(check.get("test") or [])}
    for key in ("interval", "timeout", "start_period"):
        if check.get(key):
            out[key] = check[key]
    if check.get("retries") is not None:
        out["retries"] = int(check["retries"])
    return out


def _mount(name, volume, volumes, problems) -> dict[str, Any] | None:
    kind = volume.get("type")
    out: dict[str, Any] = {"type": kind, "target": volume["target"]}
    if volume.get("read_only"):
        out["read_only"] = True
    if kind == "volume":
        source = volume.get("source")
        options: dict[str, Any] = {}
        if (volume.get("volume") or {}).get("nocopy"):
            options["no_copy"] = True
        if source:
            top = volumes.get(source) or {}
            out["source"] = top.get("name") or source
            if not top.get("external"):  # each node creates it with this driver on first use
                if top.get("driver"):
                    options["driver_name"] = top["driver"]
                if top.get("driver_opts"):
                    options["driver_options"] = dict(top["driver_opts"])
                if top.get("labels"):
                    options["labels"] = _labels(top["labels"])
        if options:
            out["volume_options"] = options
        return out
    if kind == "bind":
        out["source"] = volume["source"]
        propagation = (volume.get("bind") or {}).get("propagation")
        if propagation:
            out["bind_options"] = {"propagation": propagation}
        return out
    if kind == "tmpfs":
        tmpfs = volume.get("tmpfs") or {}
        options = {}
        if tmpfs.get("size") is not None:
            options["size_bytes"] = int(tmpfs["size"])
        if tmpfs.get("mode") is not None:
            options["mode"] = int(tmpfs["mode"])
        if options:
            out["tmpfs_options"] = options
        return out
    problems.append(f"service `{name}`: a `{kind}` mount is not supported on Swarm by Slipway")
    return None


def _ports(name: str, ports: list[Mapping[str, Any]], problems: list[str]) -> list[dict]:
    out = []
    for port in ports:
        published = str(port.get("published") or "")
        if port.get("host_ip"):
            problems.append(
                f"service `{name}`: port {published}:{port['target']} is bound to "
                f"{port['host_ip']}, but Swarm publishes on every address of every node "
                "(docker stack deploy drops the address with a warning); remove the address "
                "and firewall the port, or keep the service unpublished behind a proxy"
            )
            continue
        if "-" in published:
            problems.append(f"service `{name}`: port range {published} is not supported on Swarm")
            continue
        entry: dict[str, Any] = {
            "target_port": int(port["target"]),
            "protocol": port.get("protocol") or "tcp",
            "publish_mode": port.get("mode") or "ingress",
        }
        if published:
            entry["published_port"] = int(published)
        out.append(entry)
    return out


def _file_use(use: Mapping[str, Any], folder: str) -> FileUse:
    target = use.get("target") or use["source"]
    if not target.startswith("/"):
        target = folder + target
    mode = use.get("mode")
    return FileUse(
        key=use["source"],
        file_name=target,
        uid=str(use.get("uid") or "0"),
        gid=str(use.get("gid") or "0"),
        mode=int(mode, 8) if isinstance(mode, str) else (mode if mode is not None else 0o444),
    )


def _labels(mapping: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"label": k, "value": str(v)} for k, v in sorted(mapping.items())]
