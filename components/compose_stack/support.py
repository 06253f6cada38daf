"""Which Compose keys Slipway translates, warns about, or rejects (docs/compose-support.md).

Every key of a service, network or volume in Docker Compose's resolved model is looked up
here. A key missing from these tables is rejected, so a new Compose feature is never
silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Support(Enum):
    TRANSLATED = "translated"  # becomes an input of a pulumi-docker resource
    RESOLVED = "resolved by Compose"  # Compose folds it into other keys before we see it
    NO_EFFECT = "accepted, no effect"  # metadata that changes nothing on a Docker host
    WARNED = "warned"  # does not apply to a single host: dropped with a warning
    REJECTED = "rejected"  # cannot be expressed: the program fails


@dataclass(frozen=True)
class Rule:
    support: Support
    note: str  # what it becomes, or why it is warned, or what to do instead


T, R, N, W, X = (
    Support.TRANSLATED,
    Support.RESOLVED,
    Support.NO_EFFECT,
    Support.WARNED,
    Support.REJECTED,
)

SERVICE_KEYS: dict[str, Rule] = {
    "image": Rule(T, "docker.RemoteImage (or the tag of the image built for `build`)"),
    "build": Rule(
        T,
        "docker.RemoteImage built by the engine of `slipway:dockerHost`, not pushed "
        "(see `build.*`)",
    ),
    "pull_policy": Rule(T, "`build` builds; others pull a docker.RemoteImage"),
    "platform": Rule(T, "image and container `platform`"),
    "command": Rule(T, "container `command`"),
    "entrypoint": Rule(
        T, "container `entrypoints`; `[]` with a `command`: the command line as entrypoint"
    ),
    "environment": Rule(T, "container `envs` (after `env_file` and interpolation)"),
    "env_file": Rule(R, "merged into `environment` by Compose"),
    "label_file": Rule(R, "merged into `labels` by Compose"),
    "extends": Rule(R, "resolved by Compose; the program warns: run the migration"),
    "profiles": Rule(R, "only services of active profiles (`slipway:profiles`) are declared"),
    "ports": Rule(
        T, "container `ports`; without `host_ip` published on 0.0.0.0 and `::`, like Compose"
    ),
    "expose": Rule(
        W,
        "pulumi-docker cannot expose a port without publishing it (every port is reachable on "
        "the project's networks anyway); a proxy that reads exposed ports needs its own label, "
        "e.g. `traefik.http.services.<name>.loadbalancer.server.port`",
    ),
    "volumes": Rule(
        T,
        "`volumes` (named; anonymous ones become a managed volume per container; bind), "
        "`mounts` for `volume.nocopy` (Docker 26 or later, refused before `up` on older "
        "engines), `volume.subpath`, "
        "`bind.propagation`, `uploads` for "
        "read-only project files, `tmpfs`",
    ),
    "volumes_from": Rule(T, "`volumes` with `from_container`"),
    "tmpfs": Rule(T, "container `tmpfs`"),
    "networks": Rule(T, "`networks_advanced` with the service name and aliases as DNS aliases"),
    "network_mode": Rule(T, "`network_mode` (`service:x` becomes `container:<x's container>`)"),
    "links": Rule(
        T,
        "start order; an alias becomes a network alias of the linked service on the networks "
        "both share (rejected when it names another service there)",
    ),
    "restart": Rule(
        T, "`restart` and `max_retry_count` (a count only with on-failure, as the engine)"
    ),
    "healthcheck": Rule(
        T,
        "`healthcheck` (test, interval, timeout, retries, start period/interval; "
        "`start_interval` needs Docker 25 or later: refused before `up` on older engines, "
        "Compose drops it there)",
    ),
    "depends_on": Rule(T, "`depends_on`; `service_healthy` sets `wait` on the dependency"),
    "labels": Rule(T, "container `labels`, with Compose's `com.docker.compose.*` labels"),
    "user": Rule(T, "container `user`"),
    "working_dir": Rule(T, "container `working_dir`"),
    "hostname": Rule(T, "container `hostname`"),
    "domainname": Rule(T, "container `domainname`"),
    "container_name": Rule(T, "container `name` (only with one replica)"),
    "dns": Rule(T, "container `dns`; an order the provider's set would change is rejected"),
    "dns_opt": Rule(T, "container `dns_opts`"),
    "dns_search": Rule(
        T, "container `dns_searches`; an order the provider's set would change is rejected"
    ),
    "extra_hosts": Rule(T, "container `hosts`"),
    "cap_add": Rule(T, "`capabilities.adds`"),
    "cap_drop": Rule(T, "`capabilities.drops`"),
    "sysctls": Rule(T, "container `sysctls`"),
    "ulimits": Rule(T, "container `ulimits`"),
    "logging": Rule(T, "`log_driver`, `log_opts`"),
    "deploy": Rule(T, "see `deploy.*`"),
    "scale": Rule(T, "that many containers (like `deploy.replicas`)"),
    "mem_limit": Rule(T, "`memory` (MiB, rounded up)"),
    "mem_reservation": Rule(T, "`memory_reservation` (MiB, rounded up)"),
    "memswap_limit": Rule(T, "`memory_swap` (MiB, rounded up; -1 unlimited)"),
    "cpus": Rule(T, "container `cpus` (rejected with `cpu_period`/`cpu_quota`, as Docker)"),
    "blkio_config": Rule(
        T,
        "`device_read_bps`, `device_read_iops`, `device_write_bps`, `device_write_iops`; "
        "`weight` and `weight_device` rejected",
    ),
    "cpuset": Rule(T, "container `cpu_set`"),
    "cpu_shares": Rule(T, "container `cpu_shares`"),
    "cpu_quota": Rule(T, "container `cpu_quota`"),
    "cpu_period": Rule(T, "container `cpu_period`"),
    "shm_size": Rule(T, "`shm_size` (MiB, rounded up)"),
    "devices": Rule(T, "container `devices`"),
    "device_cgroup_rules": Rule(T, "container `device_cgroup_rules`"),
    "gpus": Rule(T, "container `gpus` (`all`) or `device_requests`"),
    "group_add": Rule(T, "container `group_adds`"),
    "init": Rule(T, "container `init`"),
    "privileged": Rule(T, "container `privileged`"),
    "read_only": Rule(T, "container `read_only`"),
    "stdin_open": Rule(T, "container `stdin_open`"),
    "tty": Rule(T, "container `tty`"),
    "pid": Rule(T, "container `pid_mode` (`service:x` becomes `container:<x's container>`)"),
    "ipc": Rule(T, "container `ipc_mode` (`service:x` becomes `container:<x's container>`)"),
    "userns_mode": Rule(T, "container `userns_mode`"),
    "cgroup": Rule(T, "container `cgroupns_mode`"),
    "cgroup_parent": Rule(T, "container `cgroup_parent`"),
    "runtime": Rule(T, "container `runtime`"),
    "security_opt": Rule(T, "container `security_opts`"),
    "storage_opt": Rule(T, "container `storage_opts`"),
    "stop_signal": Rule(T, "container `stop_signal`"),
    "stop_grace_period": Rule(
        T, "`stop_timeout` and `destroy_grace_seconds` (whole seconds); 0s: stop signal SIGKILL"
    ),
    "secrets": Rule(
        T,
        "uploaded to /run/secrets/<target>: `file` ones with the file's mode and owner, "
        "`environment` ones with `uid`/`gid`/`mode` (default 0444)",
    ),
    "configs": Rule(
        T,
        "uploaded to their target: `file` ones with the file's mode and owner, `content` and "
        "`environment` ones with `uid`/`gid`/`mode` (default 0444)",
    ),
    "attach": Rule(N, "only changes which logs `docker compose up` prints"),
    "develop": Rule(W, "`docker compose watch` is a development loop, not a deployment"),
    "annotations": Rule(X, "pulumi-docker cannot set OCI annotations: remove them"),
    "cpu_count": Rule(X, "Windows-only: use `cpus`"),
    "cpu_percent": Rule(X, "Windows-only: use `cpus`"),
    "cpu_rt_period": Rule(X, "pulumi-docker cannot set realtime CPU: remove it"),
    "cpu_rt_runtime": Rule(X, "pulumi-docker cannot set realtime CPU: remove it"),
    "credential_spec": Rule(X, "Windows-only: remove it"),
    "isolation": Rule(X, "Windows-only: remove it"),
    "external_links": Rule(
        X, "attach the service to an external network (`networks: {x: {external: true}}`)"
    ),
    "mac_address": Rule(X, "set it per network: `networks: {<name>: {mac_address: ...}}`"),
    "mem_swappiness": Rule(X, "pulumi-docker cannot set it: remove `mem_swappiness`"),
    "oom_kill_disable": Rule(X, "pulumi-docker cannot set it: remove `oom_kill_disable`"),
    "oom_score_adj": Rule(X, "pulumi-docker cannot set it: remove `oom_score_adj`"),
    "pids_limit": Rule(X, "pulumi-docker cannot set it: remove `pids_limit`"),
    "post_start": Rule(X, "lifecycle hooks cannot be expressed: move the command into the image"),
    "pre_stop": Rule(X, "lifecycle hooks cannot be expressed: move the command into the image"),
    "provider": Rule(
        X, "Compose provider services are not containers: declare that resource in Pulumi"
    ),
    "models": Rule(X, "Compose models are not containers: remove `models`"),
    "use_api_socket": Rule(X, "mount /var/run/docker.sock explicitly under `volumes` instead"),
    "uts": Rule(X, "pulumi-docker cannot set the UTS namespace: remove `uts`"),
}

BUILD_KEYS: dict[str, Rule] = {
    "context": Rule(T, "`build.context` (a directory on this machine)"),
    "dockerfile": Rule(
        T, "`build.dockerfile` (outside the context too; its content counts towards the tag)"
    ),
    "args": Rule(T, "`build.args`"),
    "target": Rule(T, "`build.target`"),
    "cache_from": Rule(T, "`build.cache_from.images`"),
    "network": Rule(T, "`build.network`"),
    "extra_hosts": Rule(T, "`build.add_hosts`"),
    "platforms": Rule(T, "`build.platform` (one platform only)"),
    "labels": Rule(T, "`build.label`: labels of the built image"),
    "pull": Rule(W, "the build pulls base images as the engine decides (not verifiable here)"),
    "no_cache": Rule(T, "`build.no_cache`: each build of the image ignores the build cache"),
    "tags": Rule(W, "only the service's image name is tagged"),
}

DEPLOY_KEYS: dict[str, Rule] = {
    "replicas": Rule(T, "that many containers, `<project>-<service>-<n>`"),
    "resources": Rule(T, "limits: `memory`, `cpus`; reservations: `memory_reservation`, devices"),
    "restart_policy": Rule(
        T,
        "wins over `restart`; `condition` as `restart` (none: no policy), `max_attempts` as "
        "`max_retry_count` with on-failure only; delay/window warned",
    ),
    "mode": Rule(W, "one host: `global` means one container"),
    "placement": Rule(W, "one host: no placement"),
    "endpoint_mode": Rule(W, "one host: Docker DNS is used"),
    "update_config": Rule(W, "Slipway updates with `pulumi up` and rolls back on failed checks"),
    "rollback_config": Rule(W, "Slipway rolls back to the last good commit itself"),
    "labels": Rule(W, "Swarm service labels: use service `labels` for container labels"),
}

NETWORK_KEYS: dict[str, Rule] = {
    "name": Rule(T, "network `name` (Compose prefixes the project: `<project>_<key>`)"),
    "driver": Rule(T, "network `driver`"),
    "driver_opts": Rule(T, "network `options`"),
    "ipam": Rule(T, "`ipam_driver`, `ipam_configs`, `ipam_options`"),
    "internal": Rule(T, "network `internal`"),
    "attachable": Rule(T, "network `attachable`"),
    "enable_ipv6": Rule(T, "network `ipv6`"),
    "labels": Rule(T, "network `labels`"),
    "external": Rule(T, "looked up with docker.get_network, not created"),
    "enable_ipv4": Rule(X, "pulumi-docker cannot disable IPv4: remove `enable_ipv4`"),
}

VOLUME_KEYS: dict[str, Rule] = {
    "name": Rule(T, "volume `name` (Compose prefixes the project: `<project>_<key>`)"),
    "driver": Rule(T, "volume `driver`"),
    "driver_opts": Rule(T, "volume `driver_opts`"),
    "labels": Rule(T, "volume `labels`"),
    "external": Rule(T, "used by name, not created"),
}

TOP_LEVEL_KEYS: dict[str, Rule] = {
    "name": Rule(R, "replaced by `slipway:composeProject`"),
    "services": Rule(T, "containers and images"),
    "networks": Rule(T, "docker.Network"),
    "volumes": Rule(T, "docker.Volume"),
    "secrets": Rule(T, "uploaded into the services that use them"),
    "configs": Rule(T, "uploaded into the services that use them"),
    "include": Rule(R, "merged by Compose"),
    "version": Rule(N, "obsolete in Compose v2"),
    "models": Rule(X, "Compose models are not containers: remove `models`"),
}

ALL_TABLES: dict[str, dict[str, Rule]] = {
    "top-level": TOP_LEVEL_KEYS,
    "service": SERVICE_KEYS,
    "service `build`": BUILD_KEYS,
    "service `deploy`": DEPLOY_KEYS,
    "network": NETWORK_KEYS,
    "volume": VOLUME_KEYS,
}


def render_markdown() -> str:
    """The support tables as Markdown (kept in docs/compose-support.md; a test compares)."""
    sections = []
    for title, table in ALL_TABLES.items():
        rows = [
            f"### {title.capitalize()} keys",
            "",
            "| key | support | what happens |",
            "|---|---|---|",
        ]
        rows += [
            f"| `{key}` | {rule.support.value} | {rule.note} |"
            for key, rule in sorted(table.items())
        ]
        sections.append("\n".join(rows))
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
