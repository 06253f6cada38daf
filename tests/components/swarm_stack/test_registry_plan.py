"""`build:` on Swarm without an engine: the registry setting and the plan (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose_stack.report import ComposeTranslationError
from components.config import ConfigError, parse_config
from components.swarm_stack import SwarmFacts, translate_swarm
from components.swarm_stack.images import registry_host
from tests.support.paths import REPO_ROOT

DEMO = ["stacks/demo/compose.yml"]


def _plan(services: dict, registry: str | None):
    model = {"name": "p", "services": services}
    return translate_swarm(model, "p", SwarmFacts(), registry)


def test_a_build_is_planned_for_the_registry_and_its_image_left_to_the_push() -> None:
    plan = _plan(
        {
            "api": {"build": {"context": "/src/api", "args": {"V": "1"}}},
            "web": {"build": {"context": "/src/web"}, "image": "ghcr.io/acme/web:2"},
        },
        "http://10.0.0.1:5000",
    )
    api, web = plan.service("api"), plan.service("web")
    assert api.build is not None and web.build is not None
    assert api.build.repository == "10.0.0.1:5000/p-api"
    assert api.build.args == {"context": "/src/api", "args": {"V": "1"}}
    assert web.build.repository == "10.0.0.1:5000/acme/web"  # its own registry host dropped
    assert api.args["task_spec"]["container_spec"]["image"] == ""  # the digest comes later
    assert not any("build" in w for w in plan.warnings), plan.warnings


def test_without_a_registry_a_build_is_refused_with_the_fix() -> None:
    with pytest.raises(ComposeTranslationError) as error:
        _plan({"api": {"build": {"context": "/src/api"}}}, None)
    (problem,) = error.value.problems
    assert "slipway:registry" in problem and "`image:`" in problem


def test_the_registry_setting_is_checked(tmp_path: Path) -> None:
    root = REPO_ROOT
    base = {"composeFiles": DEMO, "target": "swarm"}
    config = parse_config({**base, "registry": "http://10.0.0.1:5000"}, stack="s", root=root)
    assert config.registry == "http://10.0.0.1:5000"
    assert registry_host(config.registry) == "10.0.0.1:5000"
    assert registry_host("registry.example.com") == "registry.example.com"
    with pytest.raises(ConfigError) as error:
        parse_config({**base, "registry": "ftp://x/y"}, stack="s", root=root)
    assert "is not a registry address" in error.value.problems[0]
    with pytest.raises(ConfigError) as error:
        parse_config({"composeFiles": DEMO, "registry": "r:5000"}, stack="s", root=root)
    assert error.value.problems == [
        "slipway:registry: is only used with `slipway:target: swarm`; remove it"
    ]
