"""`slipway:target`: compose (default) or swarm; anything else named with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import ConfigError, parse_config

DEMO = ["stacks/demo/compose.yml"]


def _parse(raw: dict, root: Path):
    return parse_config(raw, stack="dev", root=root)


def test_target_defaults_to_compose_and_takes_swarm(repo_root: Path) -> None:
    assert _parse({"composeFiles": DEMO}, repo_root).target == "compose"
    assert _parse({"composeFiles": DEMO, "target": "swarm"}, repo_root).target == "swarm"


def test_an_unknown_target_is_named(repo_root: Path) -> None:
    with pytest.raises(ConfigError) as error:
        _parse({"composeFiles": DEMO, "target": "kubernetes"}, repo_root)
    assert error.value.problems == ["slipway:target: 'kubernetes' is not one of compose, swarm"]
