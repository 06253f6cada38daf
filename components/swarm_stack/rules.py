"""Which Compose service keys a Swarm stack honours, ignores or refuses (pure data).

The ignored, deprecated and forbidden keys are `docker stack deploy`'s own (docker/cli
`cli/compose/types`: UnsupportedProperties, DeprecatedProperties, ForbiddenProperties),
with its messages, so a file behaves here as it does there. docs/compose-support.md has
the table for users.
"""

from __future__ import annotations

# Translated into the Swarm service (components/swarm_stack/translate.py).
TRANSLATED = frozenset(
    {
        "image", "command", "entrypoint", "environment", "working_dir", "user", "hostname",
        "healthcheck", "labels", "ports", "networks", "volumes", "tmpfs", "secrets", "configs",
        "deploy", "init", "read_only", "stop_signal", "stop_grace_period", "dns",
        "dns_search", "dns_opt", "extra_hosts", "cap_add", "cap_drop", "sysctls",
        "group_add", "logging", "isolation", "depends_on", "platform",
    }
)  # fmt: skip

# Resolved by Compose before the model reaches us, or meaningless for a service.
ALREADY_RESOLVED = frozenset({"env_file", "profiles", "pull_policy", "extends"})

# `docker stack deploy` prints "Ignoring unsupported options: ..." and goes on.
IGNORED = frozenset(
    {
        "build", "cgroup_parent", "devices", "domainname", "external_links", "ipc", "links",
        "mac_address", "network_mode", "pid", "privileged", "restart", "security_opt",
        "shm_size", "userns_mode", "cgroupns_mode",
    }
)  # fmt: skip

# `docker stack deploy` prints "Ignoring deprecated options" with these reasons.
DEPRECATED = {
    "container_name": "Setting the container name is not supported.",
    "expose": "Exposing ports is unnecessary - services on the same network can access "
    "each other's containers on any port.",
}

# `docker stack deploy` refuses the file: "Compose file contains unsupported options".
FORBIDDEN = {
    "volume_driver": "Instead of setting the volume driver on the service, define a volume "
    "using the top-level `volumes` option and specify the driver there.",
    "volumes_from": "To share a volume between services, define it using the top-level "
    "`volumes` option and reference it from each service that shares it using the "
    "service-level `volumes` option.",
    "cpu_quota": "Set resource limits using deploy.resources",
    "cpu_shares": "Set resource limits using deploy.resources",
    "cpus": "Set resource limits using deploy.resources",
    "cpuset": "Set resource limits using deploy.resources",
    "mem_limit": "Set resource limits using deploy.resources",
    "mem_reservation": "Set resource limits using deploy.resources",
    "memswap_limit": "Set resource limits using deploy.resources",
}

# Refused by Slipway although `docker stack deploy` takes them: the docker provider's
# service has no field for them, so they would be lost without a word.
NO_PROVIDER_FIELD = frozenset(
    {"tty", "stdin_open", "ulimits", "credential_spec", "stop_timeout", "oom_score_adj"}
)

DEPLOY_KEYS = frozenset(
    {
        "mode", "replicas", "labels", "resources", "placement", "update_config",
        "rollback_config", "restart_policy", "endpoint_mode",
    }
)  # fmt: skip
UPDATE_KEYS = frozenset(
    {"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"}
)
TOP_LEVEL_KEYS = frozenset({"name", "services", "networks", "volumes", "secrets", "configs"})
