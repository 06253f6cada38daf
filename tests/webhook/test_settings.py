"""Settings and the command line: refuse to start without a proper secret or with a
misspelled variable, say why; every variable name of the settings model is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.support.paths import REPO_ROOT
from webhook.settings import SETTINGS, Settings, UnknownSettingError
from webhook.settings.names import OTHER_PROGRAMS


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "webhook", *args],
        env={**clean, "PYTHONPATH": str(REPO_ROOT), **env},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve")
    assert result.returncode == 2
    assert "SLIPWAY_WEBHOOK_SECRET: is required but not set" in result.stderr
    assert "token_hex" in result.stderr


def test_serve_refuses_a_short_secret(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", SLIPWAY_WEBHOOK_SECRET="short")
    assert result.returncode == 2
    assert "at least 16 characters" in result.stderr
    assert "'short'" not in result.stderr, "the secret's value is never echoed"


def test_serve_names_every_bad_setting(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "serve",
        SLIPWAY_WEBHOOK_SECRET="x" * 32,
        SLIPWAY_HOOK_RATE_LIMIT="lots",
        SLIPWAY_TRUSTED_PROXIES='["not-an-ip"]',
    )
    assert result.returncode == 2
    assert "SLIPWAY_HOOK_RATE_LIMIT" in result.stderr
    assert "SLIPWAY_TRUSTED_PROXIES" in result.stderr


def test_settings_from_environment_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SLIPWAY_WEBHOOK_SECRET=from-dotenv-0123456789\n")
    monkeypatch.setenv("SLIPWAY_BRANCH", "release")
    monkeypatch.setenv("SLIPWAY_TRUSTED_PROXIES", '["10.0.0.0/8", "::1"]')
    settings = Settings()
    assert settings.http.webhook_secret.get_secret_value() == "from-dotenv-0123456789"
    assert settings.deploy.branch == "release"
    assert settings.http.max_body_bytes == 1024 * 1024
    assert settings.database_path == Path("var") / "slipway.db"
    assert len(settings.http.proxy_networks) == 2
    assert "from-dotenv" not in repr(settings)


def test_blank_api_token_means_no_token() -> None:
    assert Settings(webhook_secret="x" * 16, api_token="  ").http.api_token is None


def test_missing_secret_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLIPWAY_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="webhook_secret"):
        Settings()


def test_serve_refuses_a_misspelled_variable_naming_the_closest(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "serve",
        SLIPWAY_WEBHOOK_SECRET="x" * 32,
        SLIPWAY_REPO_ULR="https://github.com/example/shop.git",
    )
    assert result.returncode == 2, result.stderr
    assert (
        "SLIPWAY_REPO_ULR is not a setting; did you mean SLIPWAY_REPO_URL? "
        "(docs/settings.md lists them)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("dev", [(), ("--dev",)], ids=["serve", "make serve"])
def test_a_misspelled_variable_is_said_once_on_one_line(
    tmp_path: Path, dev: tuple[str, ...]
) -> None:
    result = run_cli(
        tmp_path,
        "serve",
        *dev,
        SLIPWAY_WEBHOOK_SECRET="x" * 32,
        SLIPWAY_STATE_DIR=str(tmp_path / "state"),
        SLIPWAY_DEPOLY_NICE="5",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "the service cannot start: SLIPWAY_DEPOLY_NICE is not a setting; did you mean "
        "SLIPWAY_DEPLOY_NICE? (docs/settings.md lists them)"
    ], result.stderr


def test_serve_refuses_a_short_api_token(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path, "serve", SLIPWAY_WEBHOOK_SECRET="x" * 32, SLIPWAY_API_TOKEN="tiny-token"
    )
    assert result.returncode == 2
    assert "SLIPWAY_API_TOKEN: Value error, must be at least 16 characters" in result.stderr
    assert "token_hex" in result.stderr
    assert "tiny-token" not in result.stderr, "the token's value is never echoed"


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("SLIPWAY_REPO_ULR", "SLIPWAY_REPO_URL"),
        ("slipway_webhook_secert", "SLIPWAY_WEBHOOK_SECRET"),
        ("SLIPWAY_WATCH_INTERVAL", "SLIPWAY_WATCH_INTERVAL_SECONDS"),
        ("SLIPWAY_GITHUB_TOKNE", "SLIPWAY_GITHUB_TOKEN"),
    ],
)
def test_an_unknown_name_is_refused_with_the_closest_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, closest: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLIPWAY_WEBHOOK_SECRET", "x" * 32)
    monkeypatch.setenv(name, "1")
    with pytest.raises(UnknownSettingError) as raised:
        Settings()
    assert str(raised.value) == (
        f"{name} is not a setting; did you mean {closest}? (docs/settings.md lists them)"
    )


def test_an_unknown_name_in_dotenv_is_refused_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SLIPWAY_WEBHOOK_SECRET=" + "x" * 32 + "\nSLIPWAY_BRANHC=x\n")
    with pytest.raises(UnknownSettingError, match="did you mean SLIPWAY_BRANCH"):
        Settings()


def test_names_other_slipway_programs_read_are_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLIPWAY_WEBHOOK_SECRET", "x" * 32)
    for name in OTHER_PROGRAMS:
        monkeypatch.setenv(name, "1")
    assert Settings().deploy.branch == "main"


def test_a_short_api_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(webhook_secret="x" * 16, api_token="short")


# Every variable the service read before the one model (the modules `webhook.settings` and
# `webhook.orchestrator.config` of that time), a value other than its default, and where it lands.
EVERY_VARIABLE = {
    "SLIPWAY_WEBHOOK_SECRET": ("w" * 20, "http.webhook_secret", "w" * 20),
    "SLIPWAY_API_TOKEN": ("t" * 20, "http.api_token", "t" * 20),
    "SLIPWAY_MAX_BODY_BYTES": ("2048", "http.max_body_bytes", 2048),
    "SLIPWAY_HOOK_RATE_LIMIT": ("5/second", "http.hook_rate_limit", "5/second"),
    "SLIPWAY_API_RATE_LIMIT": ("6/second", "http.api_rate_limit", "6/second"),
    "SLIPWAY_TRUSTED_PROXIES": ('["10.0.0.0/8"]', "http.trusted_proxies", ["10.0.0.0/8"]),
    "SLIPWAY_HOST": ("0.0.0.0", "http.host", "0.0.0.0"),
    "SLIPWAY_PORT": ("9000", "http.port", 9000),
    "SLIPWAY_LOG_LEVEL": ("debug", "http.log_level", "debug"),
    "SLIPWAY_PUBLIC_URL": ("https://d.example.com/", "http.public_url", "https://d.example.com"),
    "SLIPWAY_REPO_URL": ("/srv/repo", "deploy.repo_url", "/srv/repo"),
    "SLIPWAY_STACK": ("prod", "deploy.stack", "prod"),
    "SLIPWAY_BRANCH": ("release", "deploy.branch", "release"),
    "SLIPWAY_STATE_DIR": ("/srv/state", "deploy.state_dir", Path("/srv/state")),
    "SLIPWAY_POLL_INTERVAL_SECONDS": ("0", "deploy.poll_interval_seconds", 0.0),
    "SLIPWAY_GITHUB_TOKEN": ("ghs_x", "github.github_token", "ghs_x"),
    "SLIPWAY_GITHUB_REPOSITORY": ("a/b", "github.github_repository", "a/b"),
    "SLIPWAY_GITHUB_ENVIRONMENT": ("staging", "github.github_environment", "staging"),
    "SLIPWAY_GITHUB_API_URL": ("https://ghe/api/v3", "github.github_api_url", "https://ghe/api/v3"),
    "SLIPWAY_HEALTH_INTERVAL_SECONDS": ("0.5", "orchestrator.health_interval_seconds", 0.5),
    "SLIPWAY_HEALTH_CONSECUTIVE_PASSES": ("2", "orchestrator.health_consecutive_passes", 2),
    "SLIPWAY_HEALTH_DEADLINE_SECONDS": ("30", "orchestrator.health_deadline_seconds", 30.0),
    "SLIPWAY_LOCK_RETRY_ATTEMPTS": ("2", "orchestrator.lock_retry_attempts", 2),
    "SLIPWAY_LOCK_RETRY_INITIAL_SECONDS": ("1", "orchestrator.lock_retry_initial_seconds", 1.0),
    "SLIPWAY_LOCK_RETRY_MAX_SECONDS": ("9", "orchestrator.lock_retry_max_seconds", 9.0),
    "SLIPWAY_SHUTDOWN_GRACE_SECONDS": ("30", "orchestrator.shutdown_grace_seconds", 30.0),
    "SLIPWAY_WATCH_SECONDS": ("0", "orchestrator.watch_seconds", 0.0),
    "SLIPWAY_WATCH_FAILURES": ("5", "orchestrator.watch_failures", 5),
    "SLIPWAY_WATCH_INTERVAL_SECONDS": ("0.25", "orchestrator.watch_interval_seconds", 0.25),
    "SLIPWAY_DRAIN_SECONDS": ("0", "orchestrator.drain_seconds", 0.0),
    "SLIPWAY_DEPLOY_NICE": ("0", "orchestrator.deploy_nice", 0),
    "SLIPWAY_DEPLOY_CPU_IDLE": ("false", "orchestrator.deploy_cpu_idle", False),
    "SLIPWAY_DRIFT_INTERVAL_SECONDS": ("60", "orchestrator.drift_interval_seconds", 60.0),
    "SLIPWAY_DRIFT_CHECK_TIMEOUT_SECONDS": (
        "30",
        "orchestrator.drift_check_timeout_seconds",
        30.0,
    ),
    "SLIPWAY_DRIFT_FULL_REFRESH_SECONDS": (
        "120",
        "orchestrator.drift_full_refresh_seconds",
        120.0,
    ),
    "SLIPWAY_DRIFT_AUTO_RECONCILE": ("true", "orchestrator.drift_auto_reconcile", True),
    "SLIPWAY_DRIFT_RECONCILE_COOLDOWN_SECONDS": (
        "120",
        "orchestrator.drift_reconcile_cooldown_seconds",
        120.0,
    ),
    "SLIPWAY_DRIFT_GITHUB_STATUS": ("true", "orchestrator.drift_github_status", True),
}


def test_every_variable_name_is_read_into_its_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert set(EVERY_VARIABLE) == set(SETTINGS), "a setting was added, renamed or removed"
    monkeypatch.chdir(tmp_path)
    for name, (raw, _, _) in EVERY_VARIABLE.items():
        monkeypatch.setenv(name.lower() if name.endswith("_STACK") else name, raw)
    settings = Settings()
    for name, (_, path, expected) in EVERY_VARIABLE.items():
        group, field = path.split(".")
        value = getattr(getattr(settings, group), field)
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        assert value == expected, name
