"""Settings and the command line: refuse to start without a proper secret, say why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from webhook.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "webhook", *args],
        env={**clean, "PYTHONPATH": str(REPO), **env},
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
    assert settings.webhook_secret.get_secret_value() == "from-dotenv-0123456789"
    assert settings.branch == "release"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.database_path == Path("var") / "slipway.db"
    assert len(settings.proxy_networks) == 2
    assert "from-dotenv" not in repr(settings)


def test_blank_api_token_means_no_token() -> None:
    assert Settings(webhook_secret="x" * 16, api_token="  ").api_token is None


def test_missing_secret_is_a_validation_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLIPWAY_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="webhook_secret"):
        Settings()
