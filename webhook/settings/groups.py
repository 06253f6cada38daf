"""The groups of the service's settings; each field is the variable `SLIPWAY_<FIELD>`.

A field's name, upper-cased after `SLIPWAY_`, is its environment variable (`http.port` is
`SLIPWAY_PORT`), so a name is spelled once, here. `Settings` (webhook/settings/model.py) holds
one of each group; docs/settings.md is generated from these fields.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from pathlib import Path

from limits import RateLimitItem, parse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from webhook.health import HealthPolicy

MIN_SECRET_LENGTH = 16
ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_GENERATE = "generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`"


class Group(BaseModel):
    """A group of settings: frozen, and a misspelled keyword is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _long_enough(value: SecretStr) -> SecretStr:
    if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters; {_GENERATE}")
    return value


class HttpSettings(Group):
    """The HTTP surface: the hook's secret, the API's token, limits, where `serve` listens."""

    webhook_secret: SecretStr = Field(
        description="HMAC-SHA256 secret shared with the GitHub webhook (at least 16 characters)"
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="bearer token for /deployments and the page's sign-in (at least 16 "
        "characters); unset or blank: those routes answer 401",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, gt=0, description="larger request bodies get 413"
    )
    hook_rate_limit: str = Field(
        default="300/minute", description="valid deliveries per client address (limits syntax)"
    )
    api_rate_limit: str = Field(
        default="120/minute",
        description="API requests per client address, counted before the token check",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="JSON list of addresses/networks whose X-Forwarded-For is believed, e.g. "
        '["127.0.0.1"]',
    )
    host: str = Field(default="127.0.0.1", description="address `serve` listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="port `serve` listens on")
    log_level: str = Field(
        default="info",
        description="debug, info, warning, error; debug also logs each refused signature's "
        "reason and each HTTP request the service makes (health probes, GitHub calls)",
    )
    public_url: str = Field(
        default="",
        description="the service's public base URL, for log links on GitHub; an https URL "
        "makes the page's cookie Secure",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        return _long_enough(value)

    @field_validator("api_token")
    @classmethod
    def _token_blank_or_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return _long_enough(value)

    @field_validator("public_url")
    @classmethod
    def _public_http_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("hook_rate_limit", "api_rate_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a rate limit like '300/minute': {error}") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @cached_property
    def proxy_networks(self) -> tuple[ProxyNetwork, ...]:
        """The trusted proxies as parsed networks."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in self.trusted_proxies)

    @cached_property
    def hook_limit(self) -> RateLimitItem:
        return parse(self.hook_rate_limit)

    @cached_property
    def api_limit(self) -> RateLimitItem:
        return parse(self.api_rate_limit)


class DeploySettings(Group):
    """What is deployed (repository, branch, stack) and where its state is kept."""

    repo_url: str = Field(
        default="",
        description="git URL the orchestrator clones; unset: requests are recorded and stay queued",
    )
    stack: str = Field(default="dev", description="Pulumi stack this service deploys")
    branch: str = Field(default="main", description="pushes to refs/heads/<branch> are deployed")
    state_dir: Path = Field(
        default=Path("./var"),
        description="holds slipway.db (SQLite), the git mirror, worktrees, slipway.lock",
    )
    poll_interval_seconds: float = Field(
        default=120.0,
        ge=0,
        description="how often the deployed branch's head is checked with git ls-remote, "
        "to deploy pushes whose webhook delivery was lost; 0 turns the poll off",
    )


class GitHubSettings(Group):
    """GitHub feedback: deployment statuses and PR comments (docs/github.md)."""

    github_token: SecretStr | None = Field(
        default=None,
        description="GitHub token for deployment statuses and PR preview comments; "
        "without it GitHub feedback is off (docs/github.md)",
    )
    github_repository: str = Field(
        default="",
        description="owner/name of the repository; default: from a github.com SLIPWAY_REPO_URL",
    )
    github_environment: str = Field(
        default="", description="GitHub environment of the deployments; default: the stack"
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="REST API base URL (GitHub Enterprise: https://HOST/api/v3)",
    )

    @field_validator("github_token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("github_repository")
    @classmethod
    def _owner_slash_name(cls, value: str) -> str:
        if value and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError(f"{value!r} is not owner/name, e.g. octo-org/shop")
        return value

    @field_validator("github_api_url")
    @classmethod
    def _api_http_url(cls, value: str) -> str:
        return _http_url(value)


class OrchestratorSettings(Group):
    """How deployments are verified, retried, switched over and stopped."""

    health_interval_seconds: float = Field(default=2.0, gt=0, description="between probes")
    health_consecutive_passes: int = Field(
        default=3, ge=1, description="passes in a row each health check needs"
    )
    health_deadline_seconds: float = Field(
        default=120.0, gt=0, description="after this, the deployment is unhealthy"
    )
    lock_retry_attempts: int = Field(
        default=6, ge=1, description="tries of `up` while another update holds the stack"
    )
    lock_retry_initial_seconds: float = Field(
        default=5.0, ge=0, description="first backoff between those tries"
    )
    lock_retry_max_seconds: float = Field(
        default=60.0, ge=0, description="longest backoff between those tries"
    )
    shutdown_grace_seconds: float = Field(
        default=300.0,
        ge=0,
        description="at shutdown, how long a running `up` may take to finish before the "
        "job is recorded `interrupted`",
    )
    watch_seconds: float = Field(
        default=60.0,
        ge=0,
        description="routed stacks: how long the previous release stays "
        "ready after the switch while the health checks keep running (docs/cutover.md)",
    )
    watch_failures: int = Field(
        default=3,
        ge=1,
        description="failed rounds in a row that switch traffic back to the previous release",
    )
    watch_interval_seconds: float = Field(default=1.0, gt=0, description="between watch rounds")
    drain_seconds: float = Field(
        default=5.0, ge=0, description="after the window, before the old release is stopped"
    )
    deploy_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="nice increment of each stack worker thread, inherited by every process a "
        "deployment starts (program, Pulumi CLI, providers, git, docker CLI), so a deploy "
        "does not slow the running services",
    )
    deploy_cpu_idle: bool = Field(
        default=True,
        description="run each deployment's program, Pulumi CLI, providers, git and docker CLI "
        "(not the switch back) in a CPU cgroup marked idle, so they only use CPU time the "
        "running services leave over "
        "(webhook/runners/cpu_group.py); needs root or systemd's Delegate=cpu",
    )
    drift_interval_seconds: float = Field(
        default=900.0,
        ge=0,
        description="how often each deployed stack is checked for drift (a refresh that "
        "changes nothing, docs/drift.md), when no job of the stack runs; 0 turns checks off",
    )
    drift_check_timeout_seconds: float = Field(
        default=600.0, gt=0, description="a drift check running longer is stopped and `failed`"
    )
    drift_full_refresh_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="a check whose engine shows exactly what the last in-sync full refresh "
        "of the stack left records `in sync` (via `engine snapshot`) without Pulumi, for at "
        "most this long after that refresh; then a full refresh again (docs/drift.md); 0 "
        "makes every check a full refresh",
    )
    drift_auto_reconcile: bool = Field(
        default=False,
        description="deploy the stack's healthy commit again on its own when a check finds "
        "drift (at most once per SLIPWAY_DRIFT_RECONCILE_COOLDOWN_SECONDS)",
    )
    drift_reconcile_cooldown_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="after an automatic reconcile of a stack, drift found there is only "
        "reported for this long, so a resource that keeps drifting cannot loop",
    )
    drift_github_status: bool = Field(
        default=False,
        description="post a commit status `slipway/drift/<stack>` on the deployed commit: "
        "`failure` when a check finds drift, `success` when it is back in sync (needs GitHub "
        "feedback: SLIPWAY_GITHUB_TOKEN; docs/drift.md)",
    )

    @property
    def health_policy(self) -> HealthPolicy:
        return HealthPolicy(
            interval_seconds=self.health_interval_seconds,
            consecutive_passes=self.health_consecutive_passes,
            deadline_seconds=self.health_deadline_seconds,
        )


def _http_url(value: str) -> str:
    if value and not re.match(r"https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL, e.g. https://deploy.example.com")
    return value.rstrip("/")
