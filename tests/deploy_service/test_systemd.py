"""The systemd unit for hosts without a container, and the Caddyfile command for them."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.deploy_service.caddy import CaddySite, render_caddyfile
from tests.support.paths import REPO_ROOT
from webhook.orchestrator.config import OrchestratorSettings
from webhook.startup import EXIT_STATE_DIR_BUSY, EXIT_STATE_DIR_UNUSABLE

UNIT = REPO_ROOT / "deploy" / "slipway.service"
VENV_PYTHON = "/opt/slipway/.venv/bin/python"


def unit_sections() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze (package systemd); not installed on this machine")
    # The unit names the interpreter of an installed checkout; verify checks it exists.
    unit = tmp_path / "slipway.service"
    unit.write_text(UNIT.read_text().replace(VENV_PYTHON, str(Path(sys.executable).resolve())))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "ignoring" not in result.stderr, result.stderr


def test_unit_runs_the_service_as_its_own_user_with_state_and_restart() -> None:
    service = unit_sections()["Service"]
    assert service["ExecStart"] == f"{VENV_PYTHON} -m webhook serve"
    assert service["User"] == "slipway" and service["Group"] == "slipway"
    assert service["SupplementaryGroups"] == "docker"
    assert service["EnvironmentFile"] == "/etc/slipway/slipway.env"
    assert service["StateDirectory"] == "slipway"
    assert service["Restart"] == "on-failure"
    # No restart loop on a start that only a person can fix (webhook/__main__.py, startup.py).
    assert service["RestartPreventExitStatus"].split() == [
        str(code) for code in (2, EXIT_STATE_DIR_BUSY, EXIT_STATE_DIR_UNUSABLE)
    ]
    assert service["ProtectSystem"] == "strict"
    # Deployments run in an idle CPU group inside the unit's (SLIPWAY_DEPLOY_CPU_IDLE): the
    # unit's group is delegated, and so cannot be read-only.
    assert service["Delegate"] == "cpu" and "ProtectControlGroups" not in service
    # Longer than the service's default shutdown grace, so a running `up` can finish.
    grace = OrchestratorSettings.model_fields["shutdown_grace_seconds"].default
    assert int(service["TimeoutStopSec"]) > grace


def test_unit_holds_no_secret() -> None:
    text = UNIT.read_text()
    for line in text.splitlines():
        if line.startswith("Environment="):
            name = line.split("=", 2)[1].strip("'")
            assert not any(w in name for w in ("SECRET", "TOKEN", "PASSPHRASE")), line


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components.deploy_service", "caddyfile", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_caddyfile_command_prints_the_rendered_file() -> None:
    result = run_cli("https://deploy.example.com/hooks/github", "--email", "ops@example.com")
    assert result.returncode == 0, result.stderr
    site = CaddySite("deploy.example.com", "127.0.0.1:8000", "ops@example.com")
    assert result.stdout == render_caddyfile(site)


def test_caddyfile_command_refuses_a_bad_url_with_the_fix() -> None:
    result = run_cli("http://deploy.example.com/hooks/github")
    assert result.returncode == 2
    assert "must start with https://" in result.stderr
    assert result.stdout == ""
