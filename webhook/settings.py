"""Service settings from `SLIPWAY_*` environment variables (and an optional `.env` file)."""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from pathlib import Path

from limits import RateLimitItem, parse
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 16
ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_REPO_IN_URL = re.compile(r"github\.com[:/](?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def repository_from_url(url: str) -> str | None:
    """``owner/name`` from a GitHub clone URL (https, ssh or scp-like), else None."""
    found = _REPO_IN_URL.search(url.strip())
    return found["repo"] if found else None


class Settings(BaseSettings):
    """Everything the webhook service reads from its environment.

    Only the webhook secret is required; the service refuses to start without it.
    """

    model_config = SettingsConfigDict(
        env_prefix="SLIPWAY_", env_file=".env", extra="ignore", frozen=True
    )

    webhook_secret: SecretStr = Field(
        description="HMAC-SHA256 secret shared with the GitHub webhook (at least 16 characters)"
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="bearer token for /deployments; without it those routes answer 401",
    )
    repo_url: str = Field(default="", description="git URL the orchestrator clones")
    stack: str = Field(default="dev", description="Pulumi stack this service deploys")
    branch: str = Field(default="main", description="pushes to this branch are deployed")
    state_dir: Path = Field(default=Path("./var"), description="SQLite database, git mirror")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="request body limit")
    hook_rate_limit: str = Field(
        default="300/minute", description="valid deliveries per client address (limits syntax)"
    )
    api_rate_limit: str = Field(
        default="120/minute", description="API requests per client address (limits syntax)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses/networks whose X-Forwarded-For is believed, e.g. 127.0.0.1",
    )
    host: str = Field(default="127.0.0.1", description="address `serve` listens on")
    port: int = Field(default=8000, ge=0, le=65535, description="port `serve` listens on")
    log_level: str = Field(default="info", description="debug, info, warning, error")
    github_token: SecretStr | None = Field(
        default=None,
        description="GitHub token for deployment statuses and PR preview comments; "
        "without it GitHub feedback is off (docs/github.md)",
    )
    github_repository: str = Field(
        default="",
        description="owner/name of the repository; default: from a github.com repo_url",
    )
    github_environment: str = Field(
        default="", description="GitHub environment of the deployments; default: the stack"
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="REST API base URL (GitHub Enterprise: https://HOST/api/v3)",
    )
    public_url: str = Field(
        default="",
        description="the service's public base URL, for log links on GitHub",
    )
    poll_interval_seconds: float = Field(
        default=120.0,
        ge=0,
        description="how often the deployed branch's head is checked with git ls-remote, "
        "to deploy pushes whose webhook delivery was lost; 0 turns the poll off",
    )

    @property
    def repository(self) -> str | None:
        """The repository this service deploys (owner/name), when it can be known:
        SLIPWAY_GITHUB_REPOSITORY, else taken from a github.com SLIPWAY_REPO_URL."""
        return self.github_repository or repository_from_url(self.repo_url)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters; generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return value

    @field_validator("api_token", "github_token")
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

    @field_validator("github_api_url", "public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL, e.g. https://deploy.example.com")
        return value.rstrip("/")

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

    @property
    def database_path(self) -> Path:
        """The one SQLite file under the state directory."""
        return self.state_dir / "slipway.db"
