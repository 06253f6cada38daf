"""The service container's environment: `SLIPWAY_*` settings plus the Pulumi/Docker ones.

Every `SLIPWAY_*` name comes from the service's settings model (webhook/settings), so the
control stack and the service cannot spell a setting differently; an operator's extra
`SLIPWAY_*` name that is not a setting is refused here, at `pulumi preview`, as the service
would refuse it at start. Plain values and secret values are kept apart until the last
moment so that the container's `envs` can be marked secret as a whole whenever one secret is
in it. Pure: no Pulumi calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from webhook.settings import OrchestratorSettings, setting, unknown_names, unknown_setting_problem

STATE_DIR = "/var/lib/slipway"  # the image's SLIPWAY_STATE_DIR and VOLUME
# The app stacks' binds of checkout paths (webhook/orchestrator/pipeline.py `binds_root`): a
# folder of the Docker host at the same path inside the service, so the commit's files the
# service copies there are the ones the app containers' binds show.
BINDS_DIR = f"{STATE_DIR}/binds"
# How long a running `up` may finish at shutdown (the service's default, set explicitly so
# that the container's stop timeout, which is longer, follows it).
SHUTDOWN_GRACE_SECONDS = int(OrchestratorSettings.model_fields["shutdown_grace_seconds"].default)
WEBHOOK_SECRET = setting("webhook_secret")  # always a secret: slipway:webhookSecret
REPO_URL = setting("repo_url")  # plain, or a secret when the URL holds a credential
# EnvironmentSpec field → the settings field it sets (the rest are not SLIPWAY_ settings).
SPEC_SETTINGS = {
    "app_stack": "stack",
    "repo_url": "repo_url",
    "branch": "branch",
    "port": "port",
    "listen_host": "host",
    "trusted_proxies": "trusted_proxies",
    "log_level": "log_level",
    "public_url": "public_url",
}
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
    listen_host: str = "0.0.0.0"  # SLIPWAY_HOST: the address `serve` listens on
    trusted_proxies: tuple[str, ...] = ()
    log_level: str = "info"
    docker_host: str | None = None  # None: the service uses the mounted Docker socket
    backend_url: str | None = None  # PULUMI_BACKEND_URL; None: Pulumi Cloud
    public_url: str | None = None  # SLIPWAY_PUBLIC_URL: base URL for links in GitHub statuses
    extra_plain: Mapping[str, str] = field(default_factory=dict)
    secret_names: tuple[str, ...] = ()  # besides SLIPWAY_WEBHOOK_SECRET


def build_environment(spec: EnvironmentSpec) -> ServiceEnvironment:
    """The service's environment, or ServiceEnvironmentError naming what is wrong."""
    fixed = {
        "state_dir": STATE_DIR,
        "shutdown_grace_seconds": str(SHUTDOWN_GRACE_SECONDS),
    }
    given = {SPEC_SETTINGS[name]: _text(getattr(spec, name)) for name in SPEC_SETTINGS}
    values = {**fixed, **{name: value for name, value in given.items() if value}}
    plain = {setting(name): value for name, value in values.items()}
    if spec.docker_host:
        plain["DOCKER_HOST"] = spec.docker_host
    if spec.backend_url:
        plain["PULUMI_BACKEND_URL"] = spec.backend_url
    secret_names = (WEBHOOK_SECRET, *spec.secret_names)
    problems = _name_problems(spec, plain, secret_names)
    if problems:
        raise ServiceEnvironmentError("; ".join(problems))
    return ServiceEnvironment(
        plain={**plain, **spec.extra_plain}, secret_names=tuple(sorted(set(secret_names)))
    )


def _text(value: object) -> str:
    """A value as the service reads it: lists as JSON (the settings model decodes them)."""
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    return "" if value is None else str(value)


def _name_problems(
    spec: EnvironmentSpec, managed: Mapping[str, str], secret_names: tuple[str, ...]
) -> list[str]:
    problems = []
    for name in [*spec.extra_plain, *secret_names]:
        if not _ENV_NAME.match(name):
            problems.append(f"{name!r} is not an environment variable name (A-Z, 0-9, _)")
    problems += [unknown_setting_problem(name) for name in unknown_names(spec.extra_plain)]
    problems += [unknown_setting_problem(name) for name in unknown_names(secret_names)]
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
    if WEBHOOK_SECRET in spec.secret_names:
        problems.append(
            f"{WEBHOOK_SECRET} comes from slipway:webhookSecret: "
            "remove it from slipway:serviceSecrets"
        )
    if not spec.repo_url and REPO_URL not in secret_names:
        problems.append(
            "the repository to deploy is missing: set slipway:service.repoUrl, or "
            f"slipway:serviceSecrets.{REPO_URL} when the URL holds a credential"
        )
    if not spec.backend_url and "PULUMI_ACCESS_TOKEN" not in secret_names:
        problems.append(
            "the service cannot reach the app stack's state: set slipway:service.backendUrl "
            "(e.g. file:///var/lib/slipway/pulumi-state or s3://bucket) or "
            "slipway:serviceSecrets.PULUMI_ACCESS_TOKEN for Pulumi Cloud"
        )
    return problems
