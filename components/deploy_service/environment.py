"""The service container's environment: `SLIPWAY_*` settings plus the Pulumi/Docker ones.

Plain values and secret values are kept apart until the last moment so that the container's
`envs` can be marked secret as a whole whenever one secret is in it. Pure: no Pulumi calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

STATE_DIR = "/var/lib/slipway"  # the image's SLIPWAY_STATE_DIR and VOLUME
# The app stacks' binds of checkout paths (webhook/orchestrator/pipeline.py `binds_root`): a
# folder of the Docker host at the same path inside the service, so the commit's files the
# service copies there are the ones the app containers' binds show.
BINDS_DIR = f"{STATE_DIR}/binds"
# How long a running `up` may finish at shutdown; the container's stop timeout is longer.
SHUTDOWN_GRACE_SECONDS = 300
SECRET_LOOKING = re.compile(
    r"SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_KEY", re.I
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class ServiceEnvironmentError(ValueError):
    """The service's environment cannot be built; the message names the key and the fix."""


@dataclass(frozen=True)
class ServiceEnvironment:
    """Environment variables of the service container, plain and secret apart."""

    plain: dict[str, str]
    secret_names: tuple[str, ...]

    def lines(self, secret_values: Mapping[str, str]) -> list[str]:
        """`NAME=value` lines for `docker.Container(envs=...)`, sorted by name."""
        missing = set(self.secret_names) - set(secret_values)
        if missing:
            raise ServiceEnvironmentError(f"secret values missing for {sorted(missing)}")
        merged = {**self.plain, **{n: secret_values[n] for n in self.secret_names}}
        return [f"{name}={merged[name]}" for name in sorted(merged)]


@dataclass(frozen=True)
class EnvironmentSpec:
    """What the environment is built from (the plain part of DeployServiceArgs)."""

    app_stack: str
    repo_url: str | None
    branch: str = "main"
    port: int = 8000
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "info"
    docker_host: str | None = None  # None: the service uses the mounted Docker socket
    backend_url: str | None = None  # PULUMI_BACKEND_URL; None: Pulumi Cloud
    public_url: str | None = None  # SLIPWAY_PUBLIC_URL: base URL for links in GitHub statuses
    extra_plain: Mapping[str, str] = field(default_factory=dict)
    secret_names: tuple[str, ...] = ()  # besides SLIPWAY_WEBHOOK_SECRET


def build_environment(spec: EnvironmentSpec) -> ServiceEnvironment:
    """The service's environment, or ServiceEnvironmentError naming what is wrong."""
    plain = {
        "SLIPWAY_STACK": spec.app_stack,
        "SLIPWAY_BRANCH": spec.branch,
        "SLIPWAY_STATE_DIR": STATE_DIR,
        "SLIPWAY_HOST": "0.0.0.0",
        "SLIPWAY_PORT": str(spec.port),
        "SLIPWAY_LOG_LEVEL": spec.log_level,
        "SLIPWAY_SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE_SECONDS),
        # pydantic-settings reads list settings as JSON.
        "SLIPWAY_TRUSTED_PROXIES": json.dumps(list(spec.trusted_proxies)),
    }
    if spec.repo_url:
        plain["SLIPWAY_REPO_URL"] = spec.repo_url
    if spec.public_url:
        plain["SLIPWAY_PUBLIC_URL"] = spec.public_url
    if spec.docker_host:
        plain["DOCKER_HOST"] = spec.docker_host
    if spec.backend_url:
        plain["PULUMI_BACKEND_URL"] = spec.backend_url
    secret_names = ("SLIPWAY_WEBHOOK_SECRET", *spec.secret_names)
    problems = _name_problems(spec, plain, secret_names)
    if problems:
        raise ServiceEnvironmentError("; ".join(problems))
    return ServiceEnvironment(
        plain={**plain, **spec.extra_plain}, secret_names=tuple(sorted(set(secret_names)))
    )


def _name_problems(
    spec: EnvironmentSpec, managed: Mapping[str, str], secret_names: tuple[str, ...]
) -> list[str]:
    problems = []
    for name in [*spec.extra_plain, *secret_names]:
        if not _ENV_NAME.match(name):
            problems.append(f"{name!r} is not an environment variable name (A-Z, 0-9, _)")
    for name in spec.extra_plain:
        if name in managed:
            problems.append(f"{name} is set by Slipway itself: remove it from the extra settings")
        elif SECRET_LOOKING.search(name):
            problems.append(
                f"{name} looks like a secret: put it in slipway:serviceSecrets with "
                f"`pulumi config set --secret --path 'slipway:serviceSecrets.{name}' ...`"
            )
    for name in secret_names:
        if name in managed or name in spec.extra_plain:
            problems.append(f"{name} is set both as plain config and as a secret: keep one")
    if "SLIPWAY_WEBHOOK_SECRET" in spec.secret_names:
        problems.append(
            "SLIPWAY_WEBHOOK_SECRET comes from slipway:webhookSecret: "
            "remove it from slipway:serviceSecrets"
        )
    if not spec.repo_url and "SLIPWAY_REPO_URL" not in secret_names:
        problems.append(
            "the repository to deploy is missing: set slipway:service.repoUrl, or "
            "slipway:serviceSecrets.SLIPWAY_REPO_URL when the URL holds a credential"
        )
    if not spec.backend_url and "PULUMI_ACCESS_TOKEN" not in secret_names:
        problems.append(
            "the service cannot reach the app stack's state: set slipway:service.backendUrl "
            "(e.g. file:///var/lib/slipway/pulumi-state or s3://bucket) or "
            "slipway:serviceSecrets.PULUMI_ACCESS_TOKEN for Pulumi Cloud"
        )
    return problems
