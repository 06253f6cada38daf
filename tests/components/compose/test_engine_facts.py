"""Declaring what the engine can run and reports (issue 34 items 1 and 3; pure)."""

from __future__ import annotations

import pytest

from components.compose_stack import engine, engine_requirements
from components.compose_stack.networking import as_engine_publishes, in_read_order, ports
from components.compose_stack.plan import ImagePlan, Mount, ServicePlan, StackPlan
from components.compose_stack.report import ComposeTranslationError, Report


def _ports(*entries: dict) -> list[dict]:
    report = Report()
    return in_read_order([p for e in entries for p in ports(e, "s", report)])


def _running(reported: dict) -> dict:
    return {"State": {"Running": True}, "NetworkSettings": {"Ports": reported}}


V4_ONLY = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "28880"}]}
BOTH = {
    "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "28880"}, {"HostIp": "::", "HostPort": "28880"}]
}


def test_a_host_less_port_is_declared_as_an_engine_without_ipv6_reports_it() -> None:
    declared = _ports({"target": 80, "published": "28880"})
    assert [p["ip"] for p in declared] == ["0.0.0.0", "::"]
    kept = as_engine_publishes(declared, _running(V4_ONLY))
    assert kept == [{"internal": 80, "protocol": "tcp", "external": 28880, "ip": "0.0.0.0"}]


@pytest.mark.parametrize(
    "existing",
    [None, _running(BOTH), {"State": {"Running": False}, "NetworkSettings": {"Ports": {}}}],
    ids=["no container", "engine publishes IPv6", "stopped"],
)
def test_both_bindings_stay_without_evidence_against_ipv6(existing) -> None:
    declared = _ports({"target": 80, "published": "28880"})
    assert as_engine_publishes(declared, existing) == declared


def test_a_port_with_a_host_address_is_never_changed() -> None:
    declared = _ports({"target": 80, "published": "28880", "host_ip": "127.0.0.1"})
    assert as_engine_publishes(declared, _running({})) == declared


def test_engine_api_version_is_parsed() -> None:
    assert engine.parse_version("1.41\n") == (1, 41)
    assert engine.parse_version("dev") is None


def _plan(**service) -> StackPlan:
    plan = ServicePlan(
        name="s", image=ImagePlan(name="busybox"), container_names=["p-s-1"], args={}
    )
    for key, value in service.items():
        setattr(plan, key, value)
    return StackPlan(project="p", services=[plan], networks=[], volumes=[])


@pytest.mark.parametrize(
    ("service", "key", "release"),
    [
        ({"args": {"healthcheck": {"start_interval": "1s"}}}, "healthcheck.start_interval", "25.0"),
        (
            {"mounts": [Mount(kind="volume", container_path="/d", source="v", no_copy=True)]},
            "volume.nocopy",
            "26.0",
        ),
    ],
)
def test_a_key_the_engine_is_too_old_for_is_refused_before_anything(service, key, release):
    plan = _plan(**service)
    with pytest.raises(ComposeTranslationError) as refused:
        engine_requirements.check(plan, (1, 41))
    message = str(refused.value)
    assert f"`{key}` needs Docker {release}" in message and "API 1.41" in message
    engine_requirements.check(plan, (1, 45))  # a new enough engine takes it
    engine_requirements.check(plan, None)  # unknown engine: not refused
