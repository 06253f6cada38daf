"""Orchestrator settings from `SLIPWAY_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from webhook.health import HealthPolicy

HEALTHY_SHA_TAG = "slipway:healthy-sha"
"""Stack tag holding the last commit whose health checks passed (where tags exist)."""


class OrchestratorSettings(BaseSettings):
    """How deployments are verified, retried and stopped. Every field has a default."""

    model_config = SettingsConfigDict(
        env_prefix="SLIPWAY_", env_file=".env", extra="ignore", frozen=True
    )

    health_interval_seconds: float = Field(default=2.0, gt=0, description="between probes")
    health_consecutive_passes: int = Field(default=3, ge=1, description="passes in a row")
    health_deadline_seconds: float = Field(default=120.0, gt=0, description="give up after")
    lock_retry_attempts: int = Field(
        default=6, ge=1, description="tries of `up` while another update holds the stack"
    )
    lock_retry_initial_seconds: float = Field(default=5.0, ge=0, description="first backoff")
    lock_retry_max_seconds: float = Field(default=60.0, ge=0, description="longest backoff")
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

    @property
    def health_policy(self) -> HealthPolicy:
        return HealthPolicy(
            interval_seconds=self.health_interval_seconds,
            consecutive_passes=self.health_consecutive_passes,
            deadline_seconds=self.health_deadline_seconds,
        )
