"""The Docker Compose runner, against the real binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.docker_compose import ComposeConfigError, compose_config


def test_config_resolves_extends_and_anchors_alike(repo_root: Path) -> None:
    stacks = repo_root / "stacks"
    legacy = compose_config([stacks / "legacy" / "app.yml"], project_name="t")
    migrated = compose_config([stacks / "app.yml"], project_name="t")
    assert legacy["services"]["web"]["environment"] == migrated["services"]["web"]["environment"]
    assert legacy["services"]["web"]["environment"]["LOG_LEVEL"] == "warning"
    assert legacy["services"]["web"]["environment"]["DATABASE_URL"].startswith("postgres://shop:")


def test_config_error_carries_composes_message(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  web:\n    image: nginx\n    depends_on: [missing]\n")
    with pytest.raises(ComposeConfigError) as info:
        compose_config([bad], project_name="t")
    assert "missing" in str(info.value)
    assert str(bad) in str(info.value)
