"""Routed services in the Compose model (pure): the `x-slipway` block, what cannot run twice,
release names, and the `routing` output the cutover reads."""

from __future__ import annotations

import pytest

from components.compose_stack.routes import routing_output, with_release
from components.compose_stack.translate import (
    ComposeTranslationError,
    HostFacts,
    translate_model,
)

FACTS = HostFacts(project_dir="/srv/app")
ROUTES = {"proxy": {"listen": "127.0.0.1:8080"}, "routes": {"web": {"port": 80, "health": "/h"}}}


def plan_of(web: dict, x: dict | None = None, **top):
    model = {
        "name": "p",
        "services": {"web": {"image": "nginx", "networks": {"default": None}, **web}},
        "networks": {"default": {"name": "p_default"}},
        "x-slipway": ROUTES if x is None else x,
        **top,
    }
    return translate_model(model, "p", FACTS)


def problems(web: dict, x: dict | None = None, **top) -> list[str]:
    with pytest.raises(ComposeTranslationError) as raised:
        plan_of(web, x, **top)
    return raised.value.problems


def test_a_routed_service_is_named_per_release_and_labelled() -> None:
    plan = with_release(plan_of({}), "d7")
    web = plan.service("web")
    assert web.container_names == ["p-web-d7-1"]
    labels = {e["label"]: e["value"] for e in web.replica_args[0]["labels"]}
    assert labels["slipway.release"] == "d7" and labels["slipway.project"] == "p"
    assert routing_output(plan) == {
        "project": "p",
        "listen": "127.0.0.1:8080",
        "release": "d7",
        "services": [
            {"service": "web", "containers": ["p-web-d7-1"], "network": "p_default",
             "port": 80, "path": "/", "host": None, "health": "/h"},
        ],
    }  # fmt: skip


def test_without_a_release_names_stay_composes() -> None:
    plan = with_release(plan_of({}), None)
    assert plan.service("web").container_names == ["p-web-1"]
    assert routing_output(plan)["release"] is None


def test_a_stack_without_the_block_has_no_routing() -> None:
    plan = plan_of({}, x={})
    assert plan.routing is None and routing_output(plan) is None


@pytest.mark.parametrize(
    ("web", "expected"),
    [
        ({"ports": [{"target": 80, "published": "8080", "protocol": "tcp"}]}, "fixed host port"),
        ({"container_name": "shop"}, "fixed `container_name`"),
        ({"volumes": [{"type": "volume", "source": "data", "target": "/d"}]}, "read-write"),
        ({"volumes": [{"type": "bind", "source": "/srv/app/data", "target": "/d"}]}, "read-write"),
    ],
)
def test_a_service_that_cannot_run_twice_is_refused_with_the_reason(
    web: dict, expected: str
) -> None:
    found = problems(web, volumes={"data": {}})
    assert len(found) == 1 and expected in found[0] and "x-slipway.routes.web" in found[0], found


def test_read_only_or_declared_shared_volumes_are_allowed() -> None:
    read_only = {"volumes": [{"type": "volume", "source": "d", "target": "/d", "read_only": True}]}
    assert plan_of(read_only, volumes={"d": {}}).routing.routes["web"].port == 80
    shared = {**ROUTES, "routes": {"web": {"port": 80, "sharedVolumes": True}}}
    writable = {"volumes": [{"type": "volume", "source": "d", "target": "/d"}]}
    assert plan_of(writable, shared, volumes={"d": {}}).routing is not None
    bound = {"volumes": [{"type": "bind", "source": "/srv/app/conf", "target": "/c"}]}
    assert plan_of(bound, shared).routing is not None
    bound_read_only = {
        "volumes": [{"type": "bind", "source": "/srv/app/c", "target": "/c", "read_only": True}]
    }
    assert plan_of(bound_read_only).routing is not None


def test_every_mistake_in_the_block_is_listed() -> None:
    found = problems(
        {},
        {"proxy": {"listen": "8080"}, "routes": {"web": {"port": "80"}, "api": {"port": 1}}},
    )
    assert any("proxy.listen" in p for p in found), found
    assert any("x-slipway.routes.web" in p and "`port`" in p for p in found), found
    assert any("no service `api`" in p for p in found), found


def test_a_release_name_docker_cannot_use_is_refused() -> None:
    with pytest.raises(ValueError, match="slipway:release"):
        with_release(plan_of({}), "D 7")
