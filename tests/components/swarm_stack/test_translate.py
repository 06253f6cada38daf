"""The Compose model as Swarm services (pure: components/swarm_stack/translate.py)."""

from __future__ import annotations

import pytest

from components.compose_stack.report import ComposeTranslationError
from components.swarm_stack import SwarmFacts, translate_swarm
from components.swarm_stack.converge import verdict


def _plan(services: dict, **top):
    model = {"name": "p", "services": services, **top}
    return translate_swarm(model, "p", SwarmFacts(read_file=lambda path: b"from " + path.encode()))


def _problems(services: dict, **top) -> list[str]:
    with pytest.raises(ComposeTranslationError) as error:
        _plan(services, **top)
    return error.value.problems


def test_deploy_section_becomes_the_swarm_service() -> None:
    plan = _plan(
        {
            "api": {
                "image": "api:1",
                "ports": [{"target": 80, "published": "8080", "mode": "host", "protocol": "tcp"}],
                "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 3},
                "networks": {"default": None},
                "deploy": {
                    "mode": "global",
                    "resources": {"limits": {"cpus": 0.5, "memory": "67108864"}},
                    "placement": {
                        "constraints": ["node.role == worker"],
                        "preferences": [{"spread": "node.id"}],
                    },
                    "update_config": {"parallelism": 1, "monitor": "3s"},
                    "restart_policy": {"condition": "on-failure", "max_attempts": 3},
                    "labels": {"team": "a"},
                },
            }
        },
        networks={"default": {"name": "p_default"}},
    )
    service = plan.service("api")
    args = service.args
    assert service.service_name == "p_api"
    assert args["mode"] == {"global_": True}
    # a host-mode port cannot be bound twice on one node: stop-first; rollback by default
    assert args["update_config"] == {"order": "stop-first", "failure_action": "rollback",
                                     "parallelism": 1, "monitor": "3s"}  # fmt: skip
    assert args["endpoint_spec"]["ports"] == [
        {"target_port": 80, "published_port": 8080, "protocol": "tcp", "publish_mode": "host"}
    ]
    task = args["task_spec"]
    assert task["resources"] == {"limits": {"nano_cpus": 500_000_000, "memory_bytes": 67108864}}
    assert task["placement"] == {
        "constraints": ["node.role == worker"],
        "prefs": ["node.id"],  # the descriptor, as docker stack deploy sends it
    }
    assert task["restart_policy"] == {"condition": "on-failure", "max_attempts": 3}
    assert task["container_spec"]["healthcheck"] == {"tests": ["CMD", "true"], "interval": "1s",
                                                     "retries": 3}  # fmt: skip
    assert {"label": "team", "value": "a"} in args["labels"]
    assert {"label": "com.docker.stack.namespace", "value": "p"} in args["labels"]
    assert service.networks == [("default", ("api",))]
    assert plan.networks[0].args["driver"] == "overlay"


def test_a_stateless_service_updates_start_first() -> None:
    args = _plan({"w": {"image": "w:1", "deploy": {"replicas": 3}}}).service("w").args
    assert args["mode"] == {"replicated": {"replicas": 3}}
    assert args["update_config"]["order"] == "start-first"


def test_secrets_are_named_by_their_content() -> None:
    one = _plan({"a": {"image": "a", "secrets": [{"source": "s", "mode": "0400"}]}},
                secrets={"s": {"name": "p_s", "file": "/x"}})  # fmt: skip
    other = _plan({"a": {"image": "a"}}, secrets={"s": {"name": "p_s", "file": "/y"}})
    assert one.secrets[0].name.startswith("p_s-") and one.secrets[0].content == b"from /x"
    assert one.secrets[0].name != other.secrets[0].name
    use = one.service("a").secrets[0]
    assert (use.file_name, use.mode) == ("/run/secrets/s", 0o400)


def test_ignored_as_docker_stack_deploy_ignores() -> None:
    plan = _plan({"a": {"image": "a", "build": {"context": "."}, "restart": "always",
                        "container_name": "x"}})  # fmt: skip
    assert plan.warnings == [
        "service `a`: ignoring options Swarm does not support: build, restart "
        "(as docker stack deploy does)",
        "service `a`: ignoring `container_name`: Setting the container name is not supported.",
    ]


def test_what_swarm_cannot_do_is_refused_with_the_reason() -> None:
    problems = _problems(
        {
            "a": {
                "build": {"context": "."},
                "mem_limit": "1g",
                "ports": [{"target": 80, "published": "80", "host_ip": "127.0.0.1"}],
                "depends_on": {"b": {"condition": "service_healthy"}},
            },
            "b": {"image": "b"},
        }
    )
    assert len(problems) == 4, problems
    assert (
        "service `a`: `mem_limit` is not supported: Set resource limits using deploy.resources"
        in problems
    )
    assert any("no `image`" in p and "registry" in p for p in problems)
    assert any("bound to 127.0.0.1" in p for p in problems)
    assert any("depends_on.b.condition: service_healthy" in p for p in problems)


def _task(image: str, state: str = "running", desired: str = "running") -> dict:
    return {"DesiredState": desired, "Status": {"State": state},
            "Spec": {"ContainerSpec": {"Image": image}}}  # fmt: skip


def test_converged_only_when_every_wanted_task_runs_the_declared_image() -> None:
    service = {"Spec": {"Mode": {"Replicated": {"Replicas": 2}}}}
    both = [_task("api:2"), _task("api:2")]
    assert verdict("p_api", "api:2", service, both).done
    old = [_task("api:2"), _task("api:1")]
    assert not verdict("p_api", "api:2", service, old).done
    rolled = {**service, "UpdateStatus": {"State": "rollback_completed", "Message": "task died"}}
    found = verdict("p_api", "api:2", rolled, [_task("api:1"), _task("api:1")])
    assert found.failed and found.detail == "service p_api: Swarm rolled it back (task died)"
    done = {
        **service,
        "UpdateStatus": {"State": "rollback_completed", "Message": "rollback completed"},
    }
    unhealthy = {
        **_task("api:2", "failed", "shutdown"),
        "Status": {"State": "failed", "Err": "unhealthy container"},
    }
    found = verdict("p_api", "api:2", done, [_task("api:1"), unhealthy])
    assert found.detail == (
        "service p_api: Swarm rolled it back (rollback completed; a task of api:2 failed: "
        "unhealthy container)"
    )
    # The first failure caused the rollback; a later task's (a port still held while Swarm
    # replaced the task) is named after it, never instead of it.
    raced = {
        **_task("api:2", "rejected", "shutdown"),
        "Status": {"State": "rejected", "Err": "host-mode port already in use on 1 node",
                   "Timestamp": "2026-12-07T05:00:09Z"},
    }  # fmt: skip
    first = {**unhealthy, "Status": {**unhealthy["Status"], "Timestamp": "2026-12-07T05:00:05Z"}}
    found = verdict("p_api", "api:2", done, [raced, _task("api:1"), first])
    assert found.detail == (
        "service p_api: Swarm rolled it back (rollback completed; a task of api:2 failed: "
        "unhealthy container (later tasks: host-mode port already in use on 1 node))"
    )
    rolling = {**service, "UpdateStatus": {"State": "rollback_started"}}
    assert not verdict("p_api", "api:2", rolling, both).failed  # waits for the rollback to end


def test_dns_search_alone_keeps_the_nodes_resolvers() -> None:
    """The provider refuses a DNS config without nameservers; docker stack deploy sends
    `dns_search` alone, so the translation sends an empty list (the node's resolvers)."""
    container = (
        _plan({"a": {"image": "a:1", "dns_search": ["example.test"]}})
        .service("a")
        .args["task_spec"]["container_spec"]
    )
    assert container["dns_config"] == {"nameservers": [], "searches": ["example.test"]}
