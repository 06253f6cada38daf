"""The pure translation from Compose's resolved model to the plan (no Pulumi, no Compose)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.compose_stack import images
from components.compose_stack.plan import Dependency, Mount, Upload
from components.compose_stack.support import ALL_TABLES, SERVICE_KEYS, Support, render_markdown
from components.compose_stack.translate import (
    ComposeTranslationError,
    HostFacts,
    parse_duration,
    to_mib,
    translate_model,
)

FACTS = HostFacts(project_dir="/srv/app", is_file=lambda p: p.endswith(".conf"))


def _model(services: dict, **top) -> dict:
    return {
        "name": "p",
        "services": services,
        "networks": {"default": {"name": "p_default"}},
        **top,
    }


def _one(service: dict, facts: HostFacts = FACTS, **top):
    """Translate one service `s` (next to a plain service `other`)."""
    services = {"s": {"image": "nginx", **service}, "other": {"image": "busybox"}}
    plan = translate_model(_model(services, **top), "p", facts)
    return plan.service("s"), plan


def test_ports_hosts_ulimits_and_capabilities() -> None:
    service, _ = _one(
        {
            "ports": [
                {"target": 80, "published": "8080", "protocol": "tcp", "mode": "ingress"},
                {"target": 53, "host_ip": "127.0.0.1", "protocol": "udp", "mode": "ingress"},
            ],
            "extra_hosts": ["db=10.0.0.5", "v6=::1"],
            "ulimits": {"nproc": 65535, "nofile": {"soft": 1024, "hard": 2048}},
            "cap_add": ["NET_ADMIN"],
            "cap_drop": ["ALL"],
            "sysctls": {"net.core.somaxconn": 1024},
        }
    )
    assert service.args["ports"] == [  # in the order the provider reads them back
        {"internal": 53, "ip": "127.0.0.1", "protocol": "udp"},
        {"internal": 80, "external": 8080, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 80, "external": 8080, "protocol": "tcp", "ip": "::"},
    ]
    assert service.args["hosts"] == [{"host": "db", "ip": "10.0.0.5"}, {"host": "v6", "ip": "::1"}]
    assert service.args["ulimits"] == [
        {"name": "nproc", "soft": 65535, "hard": 65535},
        {"name": "nofile", "soft": 1024, "hard": 2048},
    ]
    assert service.args["capabilities"] == {"adds": ["NET_ADMIN"], "drops": ["ALL"]}
    assert service.args["sysctls"] == {"net.core.somaxconn": "1024"}


def test_environment_skips_unset_pass_through_variables() -> None:
    service, _ = _one({"environment": {"B": "2", "A": "", "UNSET": None}})
    assert service.args["envs"] == ["A=", "B=2"]


def test_volumes_of_every_kind() -> None:
    service, _ = _one(
        {
            "volumes": [
                {"type": "volume", "source": "data", "target": "/data"},
                {"type": "volume", "target": "/cache"},
                {
                    "type": "bind",
                    "source": "/srv/app/site.conf",
                    "target": "/etc/site.conf",
                    "read_only": True,
                },
                {
                    "type": "bind",
                    "source": "/srv/app/logs",
                    "target": "/logs",
                    "bind": {"selinux": "z"},
                },
                {
                    "type": "bind",
                    "source": "/etc/localtime",
                    "target": "/etc/localtime",
                    "read_only": True,
                },
                {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "1000000", "mode": 493}},
            ],
            "tmpfs": ["/run:size=1m"],
            "volumes_from": ["other:ro", "container:legacy"],
        }
    )
    assert service.mounts == [
        Mount("volume", "/data", "data"),
        Mount("anonymous", "/cache"),
        Mount("bind", "/logs", "/srv/app/logs", False, "z"),
        Mount("bind", "/etc/localtime", "/etc/localtime", True),
        Mount("from_service", source="other", read_only=True),
        Mount("from_container", source="legacy"),
    ]
    # Only the read-only file inside the project folder is shipped with the deployment.
    assert service.uploads == [Upload(target="/etc/site.conf", source="/srv/app/site.conf")]
    assert service.args["tmpfs"] == {"/run": "size=1m", "/tmp": "size=1000000,mode=755"}


def test_project_bind_on_a_remote_host_is_warned() -> None:
    facts = HostFacts(project_dir="/srv/app", remote_docker_host=True)
    _, plan = _one(
        {"volumes": [{"type": "bind", "source": "/srv/app/logs", "target": "/logs"}]}, facts
    )
    assert any("must exist" in w and "/srv/app/logs" in w for w in plan.warnings)


def test_restart_policies() -> None:
    args = _one({"restart": "on-failure:5"})[0].args
    assert (args["restart"], args["max_retry_count"]) == ("on-failure", 5)
    assert _one({})[0].args["restart"] == "no"
    deploy = {"restart_policy": {"condition": "on-failure", "max_attempts": 2, "delay": "5s"}}
    service, plan = _one({"deploy": deploy})
    assert (service.args["restart"], service.args["max_retry_count"]) == ("on-failure", 2)
    assert any("restart_policy.delay" in w for w in plan.warnings)


def test_healthcheck_and_disable() -> None:
    check = {
        "test": ["CMD", "true"],
        "interval": "10s",
        "timeout": "2s",
        "retries": 4,
        "start_period": "1m0s",
        "start_interval": "1s",
    }
    assert _one({"healthcheck": check})[0].args["healthcheck"] == {
        "tests": ["CMD", "true"],
        "interval": "10s",
        "timeout": "2s",
        "retries": 4,
        "start_period": "1m0s",
        "start_interval": "1s",
    }
    assert _one({"healthcheck": {"disable": True}})[0].args["healthcheck"] == {"tests": ["NONE"]}


def test_resources_in_mib_and_cpus() -> None:
    deploy = {
        "resources": {
            "limits": {"cpus": 1.5, "memory": "268435456"},
            "reservations": {"memory": "1000"},
        }
    }
    service, _ = _one({"deploy": deploy, "shm_size": "67108864", "stop_grace_period": "1m30s"})
    assert service.args["cpus"] == "1.5"
    assert service.args["memory"] == 256
    assert service.args["memory_reservation"] == 1  # rounded up, never 0
    assert service.args["shm_size"] == 64
    assert service.args["stop_timeout"] == service.args["destroy_grace_seconds"] == 90


def test_gpus_and_device_reservations() -> None:
    assert _one({"gpus": [{"count": -1}]})[0].args["gpus"] == "all"
    devices = [{"capabilities": ["gpu"], "count": 1, "driver": "nvidia"}]
    service, _ = _one({"deploy": {"resources": {"reservations": {"devices": devices}}}})
    assert service.args["device_requests"] == [
        {"capabilities": ["gpu"], "count": 1, "driver": "nvidia"}
    ]


def test_replicas_scale_and_container_name() -> None:
    assert _one({"deploy": {"replicas": 3}})[0].container_names == ["p-s-1", "p-s-2", "p-s-3"]
    assert _one({"scale": 2})[0].container_names == ["p-s-1", "p-s-2"]
    assert _one({"deploy": {"replicas": 0}})[0].container_names == []
    assert _one({"container_name": "fixed"})[0].container_names == ["fixed"]
    with pytest.raises(ComposeTranslationError, match="`container_name` with 2 replicas"):
        _one({"container_name": "fixed", "scale": 2})


def test_build_becomes_a_local_image_named_like_compose() -> None:
    build = {
        "context": "/srv/app",
        "dockerfile": "docker/Dockerfile",
        "args": {"V": 1},
        "target": "prod",
        "cache_from": ["x:1"],
        "labels": {"com.example.team": "web", "com.example.n": 1},
        "no_cache": True,
    }
    plan = translate_model(_model({"api": {"build": build}}), "p", FACTS)
    image = plan.service("api").image
    assert image.name == "p-api"
    assert image.build == {
        "context": "/srv/app",
        "dockerfile": "/srv/app/docker/Dockerfile",
        "args": {"V": "1"},
        "target": "prod",
        "cache_from": {"images": ["x:1"]},
        "labels": {"com.example.team": "web", "com.example.n": "1"},
        "no_cache": True,
    }
    # buildx (BuildKit, as Compose builds) reads `label` and the Dockerfile inside the context.
    arguments = images.build_arguments(image.build)
    assert arguments["label"] == {"com.example.team": "web", "com.example.n": "1"}
    assert arguments["dockerfile"] == "docker/Dockerfile"
    assert arguments["no_cache"] is True and "use_legacy_builder" not in arguments
    assert images.build_arguments({"context": "/srv/app", "no_cache": False}) == {
        "context": "/srv/app"
    }
    # The legacy builder (on another engine) reads `labels` and the Dockerfile's path.
    arguments = images.build_arguments(image.build, legacy=True)
    assert arguments["labels"] == {"com.example.team": "web", "com.example.n": "1"}
    assert arguments["dockerfile"] == "/srv/app/docker/Dockerfile"
    assert arguments["no_cache"] is True and arguments["use_legacy_builder"] is True
    assert images.build_arguments({"context": "/srv/app"}, legacy=True) == {
        "context": "/srv/app",
        "dockerfile": "/srv/app/Dockerfile",  # not `Dockerfile` of the working directory
        "use_legacy_builder": True,
    }


def test_the_legacy_builder_only_for_an_engine_buildx_would_not_build_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/a.sock")
    assert not images.builds_elsewhere(None)
    assert not images.builds_elsewhere("unix:///run/a.sock")
    assert images.builds_elsewhere("unix:///run/b.sock")
    assert images.builds_elsewhere("ssh://deploy@vps")
    monkeypatch.delenv("DOCKER_HOST")
    assert not images.builds_elsewhere("unix:///var/run/docker.sock")


def test_networks_get_the_service_alias_and_links_add_aliases() -> None:
    model = _model(
        {
            "db": {"image": "postgres", "networks": {"default": None}},
            "app": {
                "image": "app",
                "networks": {"default": {"aliases": ["api"], "ipv4_address": "10.1.0.9"}},
                "links": ["db:database"],
            },
        }
    )
    plan = translate_model(model, "p", FACTS)
    app, db = plan.service("app"), plan.service("db")
    assert app.networks[0].aliases == ("app", "api")
    assert app.networks[0].args == {"ipv4_address": "10.1.0.9"}
    assert db.networks[0].aliases == ("db", "database")
    assert Dependency("db", "started") in app.depends_on


def test_dependency_order_and_waits() -> None:
    model = _model(
        {
            "web": {
                "image": "w",
                "depends_on": {
                    "db": {"condition": "service_healthy"},
                    "migrate": {"condition": "service_completed_successfully"},
                },
            },
            "migrate": {"image": "m", "depends_on": {"db": {"condition": "service_healthy"}}},
            "db": {
                "image": "d",
                "healthcheck": {
                    "test": ["CMD", "true"],
                    "interval": "5s",
                    "timeout": "5s",
                    "retries": 10,
                },
            },
            "optional": {
                "image": "o",
                "depends_on": {"absent": {"condition": "service_started", "required": False}},
            },
        }
    )
    plan = translate_model(model, "p", FACTS)
    order = [s.name for s in plan.services]
    assert order.index("db") < order.index("migrate") < order.index("web")
    db, migrate = plan.service("db"), plan.service("migrate")
    assert db.wait_healthy and db.wait_timeout == 100
    assert migrate.run_to_completion and not migrate.wait_healthy
    assert plan.service("optional").depends_on == []
    assert plan.warnings == []


def test_waiting_on_a_service_without_healthcheck_is_warned() -> None:
    model = _model(
        {
            "a": {"image": "a", "depends_on": {"b": {"condition": "service_healthy"}}},
            "b": {"image": "b"},
        }
    )
    plan = translate_model(model, "p", FACTS)
    assert (
        plan.service("b").wait_timeout == 180
    )  # Docker's defaults: 30s interval/timeout, 3 retries
    assert any("no Compose healthcheck" in w for w in plan.warnings)


def test_dependency_cycle_is_an_error() -> None:
    model = _model(
        {"a": {"image": "a", "depends_on": {"b": {}}}, "b": {"image": "b", "depends_on": {"a": {}}}}
    )
    with pytest.raises(ComposeTranslationError, match="dependency cycle"):
        translate_model(model, "p", FACTS)


def test_network_mode_service_points_at_the_container() -> None:
    model = _model({"vpn": {"image": "v"}, "app": {"image": "a", "network_mode": "service:vpn"}})
    app = translate_model(model, "p", FACTS).service("app")
    assert app.network_mode_service == "vpn"
    assert app.networks == []
    assert Dependency("vpn", "started") in app.depends_on


def test_secrets_and_configs_are_uploaded() -> None:
    facts = HostFacts(project_dir="/srv/app", is_file=lambda p: True, environ={"TOKEN": "s3cret"})
    service, _ = _one(
        {
            "secrets": [
                {"source": "db_password"},
                {"source": "token", "target": "api_token", "mode": 0o400},
            ],
            "configs": [{"source": "nginx", "target": "/etc/nginx.conf"}],
        },
        facts,
        secrets={"db_password": {"file": "/srv/app/pw.txt"}, "token": {"environment": "TOKEN"}},
        configs={"nginx": {"content": "server {}"}},
    )
    assert service.uploads == [
        Upload("/run/secrets/db_password", source="/srv/app/pw.txt", secret=True),
        Upload("/run/secrets/api_token", content="s3cret", secret=True, permissions="0400"),
        Upload("/etc/nginx.conf", content="server {}", permissions="0444"),  # Compose's default
    ]


def test_secret_from_a_missing_variable_is_an_error() -> None:
    with pytest.raises(ComposeTranslationError, match="environment variable TOKEN is not set"):
        _one({"secrets": [{"source": "t"}]}, secrets={"t": {"environment": "TOKEN"}})


def test_external_network_and_volume_are_not_created() -> None:
    model = _model(
        {"s": {"image": "x"}},
        networks={
            "edge": {"name": "proxy_edge", "external": True},
            "default": {"name": "p_default", "ipam": {"config": [{"subnet": "10.9.0.0/24"}]}},
        },
        volumes={
            "data": {"name": "p_data", "driver_opts": {"type": "nfs"}},
            "old": {"name": "legacy", "external": True},
        },
    )
    plan = translate_model(model, "p", FACTS)
    networks = {n.key: n for n in plan.networks}
    assert networks["edge"].external and networks["edge"].name == "proxy_edge"
    assert networks["default"].args == {
        "name": "p_default",
        "ipam_configs": [{"subnet": "10.9.0.0/24"}],
        "labels": [
            {"label": "com.docker.compose.network", "value": "default"},
            {"label": "com.docker.compose.project", "value": "p"},
        ],
    }
    volumes = {v.key: v for v in plan.volumes}
    assert volumes["old"].external and volumes["old"].args == {}
    assert volumes["data"].args["driver_opts"] == {"type": "nfs"}


def test_all_problems_are_reported_together_with_service_key_and_fix() -> None:
    model = _model(
        {
            "a": {"image": "a", "pids_limit": 10, "brand_new_key": 1},
            "b": {
                "image": "b",
                "ports": [{"target": 80, "published": "8000-8010", "protocol": "tcp"}],
            },
        }
    )
    with pytest.raises(ComposeTranslationError) as info:
        translate_model(model, "p", FACTS)
    problems = info.value.problems
    assert problems == [
        "service `a`: `pids_limit` is not supported: "
        "pulumi-docker cannot set it: remove `pids_limit`",
        "service `a`: `brand_new_key` is not supported: Slipway does not know this key; remove it, "
        "or teach components/compose_stack/support.py about it",
        "service `b`: `ports: 8000-8010:80` is not supported: a host port range for one "
        "container port: pick one host port",
    ]


@pytest.mark.parametrize(
    "key", sorted(k for k, r in SERVICE_KEYS.items() if r.support is Support.REJECTED)
)
def test_every_rejected_service_key_fails_naming_it(key: str) -> None:
    with pytest.raises(ComposeTranslationError) as info:
        _one({key: "value"})
    assert info.value.problems == [
        f"service `s`: `{key}` is not supported: {SERVICE_KEYS[key].note}"
    ]


@pytest.mark.parametrize(
    "key", sorted(k for k, r in SERVICE_KEYS.items() if r.support is Support.WARNED)
)
def test_every_warned_service_key_is_warned(key: str) -> None:
    _, plan = _one({key: {"watch": []}})
    assert plan.warnings == [f"service `s`: `{key}` is ignored: {SERVICE_KEYS[key].note}"]


def test_docs_list_every_key_of_the_support_tables(repo_root) -> None:
    docs = (repo_root / "docs" / "compose-support.md").read_text()
    start, end = "<!-- support-table -->\n", "<!-- /support-table -->"
    assert docs[docs.index(start) + len(start) : docs.index(end)] == render_markdown(), (
        "regenerate the table: python -m components.compose_stack.support"
    )
    assert sum(len(t) for t in ALL_TABLES.values()) > 100


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 99), st.sampled_from(["h", "m", "s", "ms"])),
        min_size=1,
        max_size=4,
    )
)
def test_parse_duration_sums_its_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{u}" for n, u in parts)
    expected = sum(n * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)
    assert parse_duration(text) == pytest.approx(expected)


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("10 seconds")


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**40))
def test_to_mib_rounds_up_and_never_loses_memory(size: int) -> None:
    mib = to_mib(str(size))
    assert (mib - 1) * 1024 * 1024 < size <= mib * 1024 * 1024


def test_reference_to_a_service_without_container_is_an_error() -> None:
    model = _model(
        {
            "vpn": {"image": "v", "deploy": {"replicas": 0}},
            "app": {"image": "a", "network_mode": "service:vpn"},
        }
    )
    with pytest.raises(ComposeTranslationError, match="uses the container of `vpn`"):
        translate_model(model, "p", FACTS)


def test_secret_file_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(
        ComposeTranslationError, match=r"/srv/app/pw\.txt is not a file on this machine"
    ):
        _one({"secrets": [{"source": "p"}]}, secrets={"p": {"file": "/srv/app/pw.txt"}})
