"""Stack roles and the control stack's config (`slipway:service`, `slipway:serviceSecrets`).

A stack is either an *app* stack (the default: Compose services, GitHub side) or the
*control* stack (`slipway:role: control`), which declares the deploy service and nothing
else. The webhook service runs `pulumi up` on app stacks; if an app stack also declared the
service, an `up` run by the service would replace the service in the middle of that `up`.
So the roles never mix, and a config that mixes them fails before any resource exists.
`role_problems` and `parse_service` are pure (no I/O); `components/config.py` calls them.
`service_args` builds the component's `DeployServiceArgs`; the component (and through it the
service's settings model) is imported only then, so that an app stack's program never loads
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import pulumi

if TYPE_CHECKING:
    from components.deploy_service.component import DeployServiceArgs

CONTROL_KEYS = ("service", "serviceSecrets")
CONTROL_SECRET_KEYS = ("serviceSecrets",)
# What an app stack declares or exports; the control stack declares none of it.
APP_KEYS = ("composeFiles", "composeProject", "profiles", "healthChecks", "github", "repoSecrets")
ROLE_DOC = "docs/install.md#stack-roles"
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Fields that are maps NAME → string, and the pattern their names follow.
_NAME_MAPS = {"env": _ENV_NAME, "buildArgs": _ARG_NAME}


@dataclass(frozen=True)
class ServiceConfig:
    """`slipway:service`: how the control stack runs the webhook service."""

    stack: str  # the app stack the service deploys, e.g. prod
    repo_url: str | None = None
    branch: str = "main"
    backend_url: str | None = None
    docker_group_id: int | None = None
    docker_host: str | None = None
    docker_socket: str | None = None  # the engine's socket on the host (/var/run/docker.sock)
    acme_email: str | None = None
    image_name: str | None = None
    proxy_image: str | None = None
    proxy_subnet: str | None = None
    log_level: str | None = None
    tls: str | None = None  # "auto" (default) or "internal" (the proxy's own CA)
    env: Mapping[str, str] = field(default_factory=dict)
    build_args: Mapping[str, str] = field(default_factory=dict)  # the Dockerfile's ARGs


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Config key (camelCase, like the rest of the slipway namespace) → ServiceConfig field.
SERVICE_FIELDS = {_camel(f.name): f.name for f in fields(ServiceConfig)}
_INT_FIELDS = ("dockerGroupId",)


def role_problems(role: str, raw: Mapping[str, Any]) -> list[str]:
    """Keys that do not belong to a stack of `role`, and keys the role requires."""
    problems = []
    if role == "control":
        for key in APP_KEYS:
            if key in raw:
                problems.append(
                    f"slipway:{key}: set on the control stack (slipway:role: control), which "
                    "declares only the deploy service; move it to an app stack's config or "
                    f"remove it with `pulumi config rm slipway:{key}` (see {ROLE_DOC})"
                )
        for key, how in (
            ("service", "`pulumi config set --path 'slipway:service.stack' prod` and the rest"),
            ("webhook", "`pulumi config set --path 'slipway:webhook.url' https://deploy.…`"),
            ("webhookSecret", "`pulumi config set --secret slipway:webhookSecret …`"),
        ):
            if not raw.get(key):
                problems.append(
                    f"slipway:{key}: required on the control stack; set it with {how} "
                    f"(see {ROLE_DOC})"
                )
    else:
        for key in CONTROL_KEYS:
            if key in raw:
                problems.append(
                    f"slipway:{key}: only the control stack (slipway:role: control) runs the "
                    "deploy service; an app stack that declared it would replace the service "
                    "during an `up` the service itself runs. Move it to Pulumi.control.yaml "
                    f"(see {ROLE_DOC})"
                )
    return problems


def parse_service(
    raw_service: Any, raw_secrets: Any
) -> tuple[ServiceConfig | None, dict[str, str], list[str]]:
    """`slipway:service` and `slipway:serviceSecrets` → (config, secrets, problems)."""
    problems: list[str] = []
    secrets = _parse_secrets(raw_secrets, problems)
    if raw_service is None:
        return None, secrets, problems
    if not isinstance(raw_service, dict):
        problems.append(
            f"slipway:service: expected a map with {', '.join(SERVICE_FIELDS)}, got {raw_service!r}"
        )
        return None, secrets, problems
    unknown = sorted(set(raw_service) - set(SERVICE_FIELDS))
    if unknown:
        problems.append(
            f"slipway:service: unknown field(s) {', '.join(unknown)}; "
            f"known fields are {', '.join(SERVICE_FIELDS)}"
        )
    values = {k: v for k, v in raw_service.items() if k in SERVICE_FIELDS and v is not None}
    for key, value in values.items():
        expected: Callable[[Any], bool] = _expected_type(key)
        if not expected(value):
            problems.append(f"slipway:service.{key}: {_type_hint(key)}, got {value!r}")
    if not values.get("stack"):
        problems.append(
            "slipway:service.stack: required: the app stack the service deploys "
            "(`pulumi config set --path 'slipway:service.stack' prod`)"
        )
    if problems:
        return None, secrets, problems
    return ServiceConfig(**{SERVICE_FIELDS[k]: v for k, v in values.items()}), secrets, problems


def service_args(
    service: ServiceConfig,
    *,
    webhook_url: str,
    webhook_secret: pulumi.Input[str],
    service_secrets: Mapping[str, pulumi.Input[str]],
) -> DeployServiceArgs:
    """DeployServiceArgs from the control stack's config; unset fields keep their defaults."""
    from components.deploy_service.component import DeployServiceArgs

    optional = {
        "image_name": service.image_name,
        "proxy_image": service.proxy_image,
        "proxy_subnet": service.proxy_subnet,
        "log_level": service.log_level,
        "tls": service.tls,
        "docker_socket": service.docker_socket,
    }
    return DeployServiceArgs(
        public_url=webhook_url,
        webhook_secret=webhook_secret,
        app_stack=service.stack,
        repo_url=service.repo_url,
        branch=service.branch,
        backend_url=service.backend_url,
        secret_env=dict(service_secrets),
        plain_env=dict(service.env),
        docker_host=service.docker_host,
        docker_group_id=service.docker_group_id,
        acme_email=service.acme_email,
        build_args=dict(service.build_args),
        **{k: v for k, v in optional.items() if v is not None},
    )


def check_role(
    role: str, raw: Mapping[str, Any], *, webhook_url: str | None, webhook_secret: str | None
) -> tuple[ServiceConfig | None, dict[str, str], list[str]]:
    """The role rules and the control stack's service config, checked together up front:
    (service config, service secrets, problems). For `components/config.py`."""
    problems = role_problems(role, raw)
    service, secrets, more = parse_service(raw.get("service"), raw.get("serviceSecrets"))
    problems += more
    if role == "control" and service and webhook_url and webhook_secret and not problems:
        args = service_args(
            service, webhook_url=webhook_url, webhook_secret=webhook_secret, service_secrets=secrets
        )
        problems += service_args_problems(args)
    return service, secrets, problems


def service_args_problems(args: DeployServiceArgs) -> list[str]:
    """Everything DeployService would refuse, as config problems (checked up front)."""
    try:
        args.check()
        args.environment()
        args.caddyfile()
    except ValueError as error:
        return [f"slipway:service: {error}"]
    return []


def _expected_type(name: str) -> Callable[[Any], bool]:
    if name in _INT_FIELDS:
        return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0
    if name in _NAME_MAPS:
        pattern = _NAME_MAPS[name]
        return lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(k, str) and pattern.match(k) and isinstance(x, str) for k, x in v.items()
            )
        )
    return lambda v: isinstance(v, str) and bool(v)


def _type_hint(name: str) -> str:
    if name in _INT_FIELDS:
        return "expected a group id (a whole number, `stat -c %g /var/run/docker.sock`)"
    if name == "buildArgs":
        return "expected a map of Dockerfile ARG name → string value (e.g. BASE_IMAGE)"
    if name == "env":
        return "expected a map of environment variable NAME → string value"
    return "expected a non-empty string"


def _parse_secrets(raw: Any, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            "slipway:serviceSecrets: expected a map NAME → value (set with "
            "`pulumi config set --secret --path 'slipway:serviceSecrets.NAME' ...`)"
        )
        return {}
    secrets = {}
    for name, value in raw.items():
        if not _ENV_NAME.match(str(name)):
            problems.append(
                f"slipway:serviceSecrets.{name}: not an environment variable name (A-Z, 0-9, _)"
            )
        elif not isinstance(value, str) or not value:
            problems.append(f"slipway:serviceSecrets.{name}: empty value")
        else:
            secrets[name] = value
    return secrets
