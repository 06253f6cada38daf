"""The typed stack config (namespace `slipway`; docs/architecture.md, "Stack config contract").

`parse_config` is pure: it turns raw values (as `pulumi config` stores them) into a
`StackConfig` or raises ConfigError naming every wrong key and how to fix it.
`load_config` reads them from `pulumi.Config("slipway")` for the running stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from components.deploy_service.config import (
    CONTROL_KEYS,
    CONTROL_SECRET_KEYS,
    ServiceConfig,
    check_role,
)
from webhook.health_checks import HealthCheck, read_health_checks

NAMESPACE = "slipway"
ROLES = ("app", "control")
TARGETS = ("compose", "swarm")  # one Docker engine, or a Swarm through its manager (swarm.md)
DOCKER_HOST_SCHEMES = ("unix", "tcp", "ssh", "npipe", "fd")
_PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

KEYS = (
    "composeFiles",
    "composeProject",
    "profiles",
    "dockerHost",
    "healthChecks",
    "github",
    "repoSecrets",
    "webhook",
    "webhookSecret",
    "role",
    "target",
    "registry",  # swarm: where built images are pushed and every node pulls (swarm.md)
    "release",  # set per deployment by the service: names routed containers (cutover.md)
    *CONTROL_KEYS,  # control stack only: the deploy service (components/deploy_service)
)
SECRET_KEYS = ("repoSecrets", "webhookSecret", *CONTROL_SECRET_KEYS)


class ConfigError(Exception):
    """The stack config is wrong; `problems` lists each key with the fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        text = f"the stack config is invalid ({len(problems)} problem(s)):\n{lines}"
        if any("`pulumi " in p for p in problems):
            text += f"\n{WRAPPER_NOTE}"
        super().__init__(text)


WRAPPER_NOTE = (
    "Run the `pulumi ...` commands above as `scripts/pulumi.sh ...` from the checkout (e.g. "
    "`scripts/pulumi.sh config rm slipway:KEY`): it adds the toolchain's CLI, the backend "
    "and its passphrase that `make up` uses (add `--stack STACK`)."
)


@dataclass(frozen=True)
class GitHubConfig:
    repository: str  # owner/name
    branch: str = "main"
    environment: str | None = None
    test_command: str = "make test"  # what the workflow's test job runs

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repository.split("/", 1)[1]


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    events: tuple[str, ...] = ("push", "pull_request")


@dataclass(frozen=True)
class StackConfig:
    stack: str
    compose_files: tuple[Path, ...]
    compose_project: str
    profiles: tuple[str, ...] = ()
    docker_host: str | None = None  # None: the local Docker socket
    health_checks: tuple[HealthCheck, ...] = ()
    github: GitHubConfig | None = None
    # Secret values stay plain here; callers wrap them with pulumi.Output.secret.
    repo_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    webhook: WebhookConfig | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    role: str = "app"
    # Control stack only (`role: control`): the deploy service and its secret environment.
    service: ServiceConfig | None = None
    service_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    release: str | None = None  # this deployment's release name (docs/cutover.md)
    target: str = "compose"  # `swarm`: Swarm services through the manager at docker_host
    registry: str | None = None  # swarm: `[http://]host[:port]` built images are pushed to

    @property
    def remote_docker_host(self) -> bool:
        return self.docker_host is not None and not self.docker_host.startswith(
            ("unix:", "npipe:", "fd:")
        )


def default_project(stack: str) -> str:
    """`slipway-<stack>`, with characters Compose does not allow in names replaced by `-`."""
    return re.sub(r"[^a-z0-9_-]", "-", f"{NAMESPACE}-{stack}".lower())


def parse_config(
    raw: Mapping[str, Any],
    *,
    stack: str,
    root: Path,
    secret_keys: frozenset[str] = frozenset(),
) -> StackConfig:
    """Validate `raw` (key without namespace → value) into a StackConfig.

    `root` is the folder relative paths are resolved against (the project folder);
    `secret_keys` are the keys Pulumi holds encrypted. Raises ConfigError.
    """
    problems: list[str] = []
    check = _Checker(raw, problems)
    for key in sorted(set(raw) - set(KEYS)):
        problems.append(
            f"{NAMESPACE}:{key}: unknown key; known keys are {', '.join(KEYS)} "
            f"(fix: `pulumi config rm {NAMESPACE}:{key}` or correct its spelling)"
        )
    for key in SECRET_KEYS:
        if key in raw and key not in secret_keys:
            problems.append(
                f"{NAMESPACE}:{key}: stored in plain text; set it with "
                f"`pulumi config set --secret {NAMESPACE}:{key} ...` (for a map: --path)"
            )
    role = check.choice("role", ROLES, default="app")
    compose_files = check.compose_files(root, required=role == "app")
    github = check.github()
    webhook = check.webhook()
    repo_secrets = check.repo_secrets()
    webhook_secret = check.string("webhookSecret")
    if webhook and not webhook_secret:
        problems.append(
            f"{NAMESPACE}:webhookSecret: missing while {NAMESPACE}:webhook is set; run "
            f'`pulumi config set --secret {NAMESPACE}:webhookSecret "$(openssl rand -hex 32)"`'
        )
    if (webhook or repo_secrets) and not github and role == "app":
        problems.append(
            f"{NAMESPACE}:github: missing while webhook or repoSecrets are set; set "
            f"`{NAMESPACE}:github` to {{repository: owner/name, branch: main}}"
        )
    service, service_secrets, role_problems = check_role(
        role,
        raw,
        webhook_url=webhook.url if webhook else None,
        webhook_secret=webhook_secret,
    )
    problems.extend(role_problems)
    target = check.choice("target", TARGETS, default="compose")
    if target == "swarm" and role == "control":
        problems.append(
            f"{NAMESPACE}:target: the control stack runs the deploy service on one engine; "
            f"remove `{NAMESPACE}:target` (Swarm is for app stacks, docs/swarm.md)"
        )
    config = StackConfig(
        stack=stack,
        compose_files=compose_files,
        compose_project=check.project(default_project(stack)),
        profiles=check.string_list("profiles"),
        docker_host=check.docker_host(),
        health_checks=check.health_checks(),
        github=github,
        repo_secrets=repo_secrets,
        webhook=webhook,
        webhook_secret=webhook_secret,
        role=role,
        service=service,
        service_secrets=service_secrets,
        release=check.string("release"),
        target=target,
        registry=check.registry(target),
    )
    if problems:
        raise ConfigError(problems)
    return config


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
EXPANDED_KEYS = ("composeProject", "healthChecks")
"""Keys whose text may hold `${NAME}` / `${NAME:-default}` (Pulumi.dev.yaml: DEMO_*)."""


def expand_variables(text: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` and `${NAME:-default}` from `environ`, as Compose interpolates them (an
    unset or empty NAME takes the default, else the empty string)."""
    return _VARIABLE.sub(lambda m: environ.get(m[1]) or (m[2] or ""), text)


def _expand(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return expand_variables(value, environ)
    if isinstance(value, list):
        return [_expand(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: _expand(item, environ) for key, item in value.items()}
    return value


def load_config(root: Path | None = None) -> StackConfig:
    """The running stack's config from `pulumi.Config("slipway")`, validated; the values
    of EXPANDED_KEYS with environment variables expanded."""
    import os

    import pulumi

    config = pulumi.Config(NAMESPACE)
    raw = {}
    for key in _configured_keys():
        value = config.get(key)
        raw[key] = _decode(value)
        if key in EXPANDED_KEYS:
            raw[key] = _expand(raw[key], os.environ)
    secret_keys = frozenset(
        key for key in raw if pulumi.runtime.is_config_secret(config.full_key(key))
    )
    return parse_config(
        raw, stack=pulumi.get_stack(), root=root or Path.cwd(), secret_keys=secret_keys
    )


def _configured_keys() -> list[str]:
    """Every key set in the `slipway` namespace, including unknown ones (to catch typos)."""
    from pulumi.runtime import config as runtime_config

    names = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{NAMESPACE}:"
    return sorted(n.removeprefix(prefix) for n in names if n.startswith(prefix))


def _decode(value: str | None) -> Any:
    """Pulumi hands structured values (lists, maps) to the program as JSON text."""
    if value is None:
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, list | dict) else value


@dataclass
class _Checker:
    raw: Mapping[str, Any]
    problems: list[str]

    def _fail(self, key: str, message: str) -> None:
        self.problems.append(f"{NAMESPACE}:{key}: {message}")

    def string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self._fail(key, f"expected a non-empty string, got {value!r}")
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.string(key) or default
        if value not in allowed:
            self._fail(key, f"{value!r} is not one of {', '.join(allowed)}")
            return default
        return value

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self._fail(key, f"expected a list of strings, got {value!r}")
            return ()
        return tuple(value)

    def compose_files(self, root: Path, *, required: bool) -> tuple[Path, ...]:
        files = self.string_list("composeFiles")
        if not files and required:
            self._fail(
                "composeFiles",
                "missing: list the Compose files of this stack, e.g. "
                "`pulumi config set --path 'slipway:composeFiles[0]' stacks/app.yml`",
            )
        paths = []
        for name in files:
            path = (root / name).resolve()
            if not path.is_file():
                self._fail(
                    "composeFiles", f"{name} does not exist (looked at {path}): fix the path"
                )
            paths.append(path)
        return tuple(paths)

    def project(self, default: str) -> str:
        value = self.string("composeProject") or default
        if not _PROJECT_NAME.match(value):
            self._fail(
                "composeProject",
                f"{value!r} is not a Compose project name: use lowercase letters, digits, "
                "`-` and `_`, starting with a letter or digit",
            )
        return value

    def docker_host(self) -> str | None:
        value = self.string("dockerHost")
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in DOCKER_HOST_SCHEMES or not (parsed.netloc or parsed.path):
            self._fail(
                "dockerHost",
                f"{value!r} is not a Docker endpoint: use e.g. ssh://deploy@vps.example.com, "
                "tcp://host:2376 or unix:///var/run/docker.sock "
                "(or remove it for the local socket)",
            )
        return value

    def registry(self, target: str) -> str | None:
        """`slipway:registry`: a registry address (`https://` is assumed without a scheme)."""
        value = self.string("registry")
        if value is None:
            return None
        parsed = urlparse(value if "://" in value else f"https://{value}")
        if target != "swarm":
            self._fail("registry", "is only used with `slipway:target: swarm`; remove it")
        elif parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path.strip("/"):
            self._fail(
                "registry",
                f"{value!r} is not a registry address: use host[:port] (HTTPS) or "
                "http://host:port (plain HTTP, an insecure registry of every node)",
            )
        return value

    def health_checks(self) -> tuple[HealthCheck, ...]:
        checks, problems = read_health_checks(self.raw.get("healthChecks"))
        for problem in problems:
            self._fail(problem.key, problem.message)
        return tuple(checks)

    def github(self) -> GitHubConfig | None:
        value = self.raw.get("github")
        if value is None:
            return None
        if not isinstance(value, dict) or not _REPOSITORY.match(str(value.get("repository", ""))):
            self._fail(
                "github",
                "expected {repository: owner/name, branch, environment, testCommand}, "
                f"got {value!r}",
            )
            return None
        unknown = set(value) - {"repository", "branch", "environment", "testCommand"}
        if unknown:
            self._fail(
                "github",
                f"unknown field(s) {', '.join(sorted(unknown))}: "
                "use repository, branch, environment, testCommand",
            )
        return GitHubConfig(
            repository=value["repository"],
            branch=str(value.get("branch") or "main"),
            environment=value.get("environment") or None,
            test_command=str(value.get("testCommand") or "make test"),
        )

    def webhook(self) -> WebhookConfig | None:
        value = self.raw.get("webhook")
        if value is None:
            return None
        if not isinstance(value, dict) or not _is_http_url(value.get("url")):
            self._fail(
                "webhook",
                f"expected {{url: https://..., events: [push, pull_request]}}, got {value!r}",
            )
            return None
        if urlparse(value["url"]).scheme != "https":
            self._fail(
                "webhook",
                f"url {value['url']!r} must use https:// (GitHub sends the signed payload there)",
            )
        events = value.get("events", ["push", "pull_request"])
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) for e in events)
        ):
            self._fail(
                "webhook",
                f"`events` must be a non-empty list of GitHub event names, got {events!r}",
            )
            events = []
        return WebhookConfig(url=value["url"], events=tuple(events))

    def repo_secrets(self) -> dict[str, str]:
        value = self.raw.get("repoSecrets")
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._fail(
                "repoSecrets",
                "expected a map NAME → value (set with "
                "`pulumi config set --secret --path 'slipway:repoSecrets.NAME' ...`)",
            )
            return {}
        secrets = {}
        for name, secret in value.items():
            if not _SECRET_NAME.match(name) or name.upper().startswith("GITHUB_"):
                self._fail(
                    f"repoSecrets.{name}",
                    "GitHub secret names use letters, digits and `_`, "
                    "and must not start with GITHUB_",
                )
            elif not isinstance(secret, str) or not secret:
                self._fail(
                    f"repoSecrets.{name}",
                    "empty value: set it with `pulumi config set --secret --path ...`",
                )
            else:
                secrets[name] = secret
        return secrets


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)
