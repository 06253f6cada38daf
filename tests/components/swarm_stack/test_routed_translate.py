"""Routed services on Swarm, and a stalled update (pure: components/swarm_stack/routed.py,
converge.stalled)."""

from __future__ import annotations

import pytest

from components.compose_stack.report import ComposeTranslationError
from components.swarm_stack import SwarmFacts, translate_swarm
from components.swarm_stack.converge import stalled
from components.swarm_stack.routed import is_release, routing_output, with_release

ROUTES = {"proxy": {"listen": "10.0.0.5:8080"}, "routes": {"web": {"port": 80, "health": "/h"}}}


def _plan(services: dict, routes: dict = ROUTES):
    model = {"name": "p", "services": services, "networks": {"front": {}}, "x-slipway": routes}
    return translate_swarm(model, "p", SwarmFacts())


def _web(**extra) -> dict:
    return {"image": "web:1", "networks": {"front": None}, **extra}


def test_each_release_is_a_service_of_its_own_on_an_attachable_network() -> None:
    plan = with_release(_plan({"web": _web(), "db": {"image": "db:1"}}), "d7")
    web, db = plan.service("web"), plan.service("db")
    assert (web.service_name, db.service_name) == ("p_web_d7", "p_db")
    assert is_release(plan, web) and not is_release(plan, db)
    labels = {entry["label"]: entry["value"] for entry in web.args["labels"]}
    assert labels["slipway.release"] == "d7" and labels["slipway.project"] == "p"
    assert web.args["endpoint_spec"] == {"mode": "dnsrr"} and "endpoint_spec" not in db.args
    assert next(n for n in plan.networks if n.key == "front").args["attachable"] is True
    output = routing_output(plan, "unix:///m.sock")
    assert output == {
        "project": "p", "listen": "10.0.0.5:8080", "release": "d7", "target": "swarm",
        "dockerHost": "unix:///m.sock",
        "services": [{"service": "web", "containers": ["p_web_d7"], "network": "p_front",
                      "port": 80, "path": "/", "host": None, "health": "/h"}],
    }  # fmt: skip


def test_without_a_release_names_stay_those_of_docker_stack_deploy() -> None:
    plan = with_release(_plan({"web": _web()}), None)
    assert plan.service("web").service_name == "p_web"
    assert not is_release(plan, plan.service("web"))


def test_a_routed_service_that_cannot_run_twice_is_refused() -> None:
    port = {"target": 80, "published": "80", "mode": "host", "protocol": "tcp"}
    volume = {"type": "volume", "source": "data", "target": "/data"}
    with pytest.raises(ComposeTranslationError) as error:
        _plan({"web": _web(ports=[port], volumes=[volume])}, {"proxy": {"listen": "x"}})
    problems = "\n".join(error.value.problems)
    assert "`proxy.listen` must be ip:port" in problems
    assert "`routes` names no service" in problems
    with pytest.raises(ComposeTranslationError) as error:
        _plan({"web": _web(ports=[port], volumes=[volume])})
    problems = "\n".join(error.value.problems)
    assert "publishes ports" in problems and "mounts volume(s) or host folder(s) data" in problems


def test_an_update_waiting_on_a_task_of_a_down_node_is_stalled() -> None:
    service = {"UpdateStatus": {"State": "updating", "StartedAt": "2026-12-06T22:49:34.2Z"}}
    old = {"ID": "a" * 25, "NodeID": "n3", "CreatedAt": "2026-12-06T22:40:00Z",
           "Status": {"State": "preparing"}}  # fmt: skip
    new = {**old, "ID": "b" * 25, "CreatedAt": "2026-12-06T22:49:35.5Z"}
    assert stalled("p_w", service, [old], {"n3": "lab-n3"}) is None  # before this update
    assert stalled("p_w", service, [new], {}) is None  # its node is up
    why = stalled("p_w", service, [old, new], {"n3": "lab-n3"})
    assert why is not None and "task bbbbbbbbbbbb on node lab-n3, which is down" in why
    done = {"UpdateStatus": {"State": "completed", "StartedAt": "2026-12-06T22:49:34Z"}}
    assert stalled("p_w", done, [new], {"n3": "lab-n3"}) is None
