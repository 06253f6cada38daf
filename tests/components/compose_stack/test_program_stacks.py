"""The whole Pulumi program under Pulumi's mocks, for the `sample` and `prod` stack configs
(the `dev` demo stack runs for real in tests/components/compose_stack/test_real_cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.docker_compose import ComposeConfigError
from components.compose_stack import ComposeTranslationError, images
from components.config import ConfigError
from tests.support.program_run import ProgramRun, run_program, stack_config

CONTAINER = "docker:index/container:Container"
PROD_SECRETS = {
    "slipway:webhookSecret": "test-webhook-secret",
    "slipway:repoSecrets": {"VPS_HOST": "vps.example.com", "DEPLOY_TOKEN": "t0ken"},
}


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    """The sample shop app (Pulumi.sample.yaml)."""
    return run_program("sample", stack_config("sample"))


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    config = {**stack_config("prod"), **PROD_SECRETS}
    return run_program("prod", config, secret_keys=tuple(PROD_SECRETS))


def _by_label(entries: list[dict]) -> dict[str, str]:
    return {e["label"]: e["value"] for e in entries}


def test_dev_declares_one_resource_per_compose_object(dev: ProgramRun) -> None:
    assert dev.count_by_type() == {
        "pulumi:providers:docker": 1,
        "slipway:compose:Stack": 1,
        "docker:index/network:Network": 2,
        "docker:index/volume:Volume": 2,
        "docker:index/remoteImage:RemoteImage": 4,
        CONTAINER: 5,  # db, web, proxy and two worker replicas
    }


def test_children_belong_to_the_component_and_use_the_explicit_provider(dev: ProgramRun) -> None:
    component = dev.of_type("slipway:compose:Stack")[0]
    provider = dev.of_type("pulumi:providers:docker")[0]
    assert "host" not in provider.inputs  # dev: the local socket
    for resource in dev.resources:
        if resource.type.startswith("docker:index/"):
            assert resource.parent == component.urn
            assert resource.provider.startswith(provider.urn)


def test_networks_and_volumes_are_prefixed_like_compose(dev: ProgramRun) -> None:
    networks = sorted(r.inputs["name"] for r in dev.of_type("docker:index/network:Network"))
    volumes = sorted(r.inputs["name"] for r in dev.of_type("docker:index/volume:Volume"))
    assert networks == ["slipway-sample_backend", "slipway-sample_frontend"]
    assert volumes == ["slipway-sample_caddy-data", "slipway-sample_db-data"]


def test_db_container_settings(dev: ProgramRun) -> None:
    db = dev.container("slipway-sample-db-1").inputs
    assert db["restart"] == "unless-stopped"
    assert sorted(db["envs"]) == [
        "POSTGRES_DB=shop",
        "POSTGRES_PASSWORD=shop",
        "POSTGRES_USER=shop",
    ]
    assert db["volumes"] == [
        {
            "volumeName": "slipway-sample_db-data",
            "containerPath": "/var/lib/postgresql/data",
            "readOnly": False,
        }
    ]
    assert db["healthcheck"] == {
        "tests": ["CMD-SHELL", "pg_isready -U shop -d shop"],
        "interval": "5s",
        "timeout": "3s",
        "retries": 10,
        "startPeriod": "10s",
    }
    assert db["networksAdvanced"] == [{"name": "slipway-sample_backend", "aliases": ["db"]}]


def test_web_container_settings(dev: ProgramRun) -> None:
    web = dev.container("slipway-sample-web-1").inputs
    assert web["command"] == ["gunicorn", "shop.wsgi", "--bind", "0.0.0.0:8000"]
    assert "LOG_LEVEL=warning" in web["envs"]  # the anchor's value overridden, as Compose merges
    assert "WEB_CONCURRENCY=4" in web["envs"]
    labels = _by_label(web["labels"])
    assert labels["com.docker.compose.service"] == "web"  # Compose's own, so `ps` shows it
    assert {k: v for k, v in labels.items() if not k.startswith("com.docker.compose.")} == {
        "com.example.role": "web",
        "com.example.team": "shop",
    }
    assert web["logDriver"] == "json-file"
    assert web["logOpts"] == {"max-file": "3", "max-size": "10m"}
    assert [n["name"] for n in web["networksAdvanced"]] == [
        "slipway-sample_backend",
        "slipway-sample_frontend",
    ]
    assert web["healthcheck"]["tests"][0] == "CMD"
    assert "ports" not in web  # `expose` publishes nothing


def test_worker_replicas_and_limits(dev: ProgramRun) -> None:
    workers = [dev.container(f"slipway-sample-worker-{i}").inputs for i in (1, 2)]
    for worker in workers:
        assert worker["memory"] == 256
        assert worker["cpus"] == "0.5"
        assert worker["command"][:3] == ["celery", "-A", "shop"]
    assert dev.outputs["services"]["worker"] == "slipway-sample-worker-1"


def test_proxy_ports_and_mounts(dev: ProgramRun, repo_root: Path) -> None:
    proxy = dev.container("slipway-sample-proxy-1").inputs
    assert proxy["ports"] == [  # IPv4 and IPv6, as Compose publishes them
        {"internal": 80, "external": 80, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 80, "external": 80, "protocol": "tcp", "ip": "::"},
        {"internal": 443, "external": 443, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 443, "external": 443, "protocol": "tcp", "ip": "::"},
    ]
    assert proxy["volumes"] == [
        {"volumeName": "slipway-sample_caddy-data", "containerPath": "/data", "readOnly": False}
    ]
    # The read-only project file is shipped as content, so it also works on a remote host.
    caddyfile = (repo_root / "stacks" / "Caddyfile").read_text()
    found = (repo_root / "stacks" / "Caddyfile").stat()
    assert proxy["uploads"] == [
        {
            "file": "/etc/caddy/Caddyfile",
            "content": caddyfile,
            "permissions": f"0{found.st_mode & 0o777:03o}",
            "owner": str(found.st_uid),
            "group": str(found.st_gid),
        }
    ]


def test_healthy_dependency_waits_and_orders_creation(dev: ProgramRun) -> None:
    db = dev.container("slipway-sample-db-1")
    web = dev.container("slipway-sample-web-1")
    proxy = dev.container("slipway-sample-proxy-1")
    # The program waits for db's health itself (health_wait.py), not the provider's `wait`.
    assert "wait" not in db.inputs
    assert db.urn in web.dependencies
    for worker in ("slipway-sample-worker-1", "slipway-sample-worker-2"):
        assert db.urn in dev.container(worker).dependencies
    # A plain dependency orders creation without waiting for health.
    assert web.urn in proxy.dependencies
    assert "wait" not in web.inputs
    # The registration order follows the dependency order as well.
    names = [r.inputs.get("name") for r in dev.of_type(CONTAINER)]
    assert (
        names.index("slipway-sample-db-1")
        < names.index("slipway-sample-web-1")
        < names.index("slipway-sample-proxy-1")
    )


def test_dev_outputs(dev: ProgramRun) -> None:
    assert dev.outputs["services"] == {
        "db": "slipway-sample-db-1",
        "web": "slipway-sample-web-1",
        "worker": "slipway-sample-worker-1",
        "proxy": "slipway-sample-proxy-1",
    }
    assert dev.outputs["healthChecks"] == [
        {"url": "http://localhost/healthz", "status": 200, "timeoutSeconds": 5}
    ]
    # Only `expose` (the provider cannot expose without publishing) is worth a warning.
    assert [w for w in dev.warnings if "`expose` is ignored" not in w] == []


def test_prod_targets_the_ssh_host_and_deploys_both_stacks(prod: ProgramRun) -> None:
    provider = prod.of_type("pulumi:providers:docker")[0]
    assert provider.inputs["host"] == "ssh://deploy@vps.example.com"
    counts = prod.count_by_type()
    assert counts[CONTAINER] == 5 + 6  # the app stack plus the monitoring stack
    assert counts["docker:index/network:Network"] == 3
    assert counts["docker:index/volume:Volume"] == 4
    assert set(prod.outputs["services"]) == {
        "db", "web", "worker", "proxy", "node-exporter", "cadvisor", "prometheus", "grafana",
        "blackbox-exporter", "blackbox-internal",
    }  # fmt: skip
    assert prod.outputs["services"]["grafana"] == "shop-grafana-1"
    assert [c["url"] for c in prod.outputs["healthChecks"]] == [
        "https://shop.example.com/healthz",
        "https://shop.example.com/",
    ]


def test_prod_monitoring_settings(prod: ProgramRun, repo_root: Path) -> None:
    prometheus = prod.container("shop-prometheus-1")
    assert prometheus.inputs["ports"] == [
        {"internal": 9090, "external": 9090, "ip": "127.0.0.1", "protocol": "tcp"}
    ]
    config = (repo_root / "stacks" / "prometheus.yml").stat()
    assert prometheus.inputs["uploads"] == [
        {
            "file": "/etc/prometheus/prometheus.yml",
            "content": (repo_root / "stacks" / "prometheus.yml").read_text(),
            # the mode and owner a read-only bind mount would show
            "permissions": f"0{config.st_mode & 0o777:03o}",
            "owner": str(config.st_uid),
            "group": str(config.st_gid),
        }
    ]
    for dependency in ("shop-node-exporter-1", "shop-cadvisor-1"):
        assert prod.container(dependency).urn in prometheus.dependencies
    cadvisor = prod.container("shop-cadvisor-1").inputs
    # Host paths outside the project stay bind mounts on the Docker host.
    assert {
        "hostPath": "/var/run/docker.sock",
        "containerPath": "/var/run/docker.sock",
        "readOnly": True,
    } in cadvisor["volumes"]
    assert prod.container("shop-blackbox-internal-1").inputs["dns"] == ["10.0.0.2"]


def test_prod_needs_its_secrets() -> None:
    with pytest.raises(ConfigError, match="slipway:webhookSecret: missing"):
        run_program("prod", stack_config("prod"))


def test_plain_text_secret_is_refused() -> None:
    config = {**stack_config("prod"), **PROD_SECRETS}
    with pytest.raises(ConfigError, match="slipway:webhookSecret: stored in plain text"):
        run_program("prod", config, secret_keys=("slipway:repoSecrets",))


def test_bad_config_fails_before_any_resource() -> None:
    config = {**stack_config("sample"), "slipway:composeFiles": ["stacks/missing.yml"]}
    run = None
    with pytest.raises(ConfigError, match=r"composeFiles: stacks/missing\.yml does not exist"):
        run = run_program("sample", config)
    assert run is None


def _program_with_compose(tmp_path: Path, text: str, stack: str = "t") -> ProgramRun:
    compose = tmp_path / "compose.yml"
    compose.write_text(text)
    return run_program(stack, {"slipway:composeFiles": [str(compose)]})


def test_unsupported_key_fails_with_service_key_and_fix(tmp_path: Path) -> None:
    text = "services:\n  api:\n    image: nginx\n    pids_limit: 100\n    oom_score_adj: 5\n"
    with pytest.raises(ComposeTranslationError) as info:
        _program_with_compose(tmp_path, text)
    message = str(info.value)
    assert "service `api`: `pids_limit` is not supported: pulumi-docker cannot set it" in message
    assert "service `api`: `oom_score_adj` is not supported" in message


def test_compose_errors_come_from_compose(tmp_path: Path) -> None:
    with pytest.raises(ComposeConfigError, match="undefined"):
        _program_with_compose(tmp_path, "services:\n  a:\n    image: x\n    networks: [nope]\n")


def test_file_with_extends_is_deployed_with_a_migration_warning(repo_root: Path) -> None:
    legacy = repo_root / "stacks" / "legacy" / "app.yml"
    run = run_program("legacy", {"slipway:composeFiles": [str(legacy)]})
    assert len(run.of_type(CONTAINER)) == 5
    [warning] = [w for w in run.warnings if "extends" in w]
    assert "python -m components.compose migrate" in warning
    assert str(legacy) in warning


def test_unsupported_single_host_key_is_warned(tmp_path: Path) -> None:
    text = (
        "services:\n  api:\n    image: nginx\n    deploy:\n      mode: global\n"
        "      placement: {constraints: [node.role==manager]}\n"
    )
    run = _program_with_compose(tmp_path, text, stack="w")
    assert len(run.of_type(CONTAINER)) == 1
    assert any("`deploy.placement` is ignored" in w for w in run.warnings)
    assert any("`deploy.mode` is ignored" in w for w in run.warnings)


def test_build_external_network_secrets_and_volumes_from(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text("FROM alpine\n")
    (tmp_path / "db_password.txt").write_text("pw\n")
    monkeypatch.setenv("SLIPWAY_TEST_TOKEN", "tok")
    text = """
services:
  api:
    build: {context: ./api, args: {VERSION: "1.2"}}
    networks: [edge, default]
    secrets: [db_password, token]
    volumes_from: [data]
    stop_grace_period: 30s
  data:
    image: busybox
    volumes: [shared:/shared, old:/old]
networks:
  edge: {external: true, name: proxy_edge}
volumes:
  shared:
  old: {external: true, name: legacy_data}
secrets:
  db_password: {file: ./db_password.txt}
  token: {environment: SLIPWAY_TEST_TOKEN}
"""
    run = _program_with_compose(tmp_path, text, stack="mix")
    [image] = [
        i for i in run.of_type("docker:index/remoteImage:RemoteImage") if "build" in i.inputs
    ]
    digest = images.context_digest(tmp_path / "api")
    assert image.inputs["name"] == f"slipway-mix-api:ctx-{digest[:12]}"
    assert image.inputs["triggers"] == {"context": digest}  # a changed file rebuilds
    assert image.inputs["keepLocally"] is True
    assert image.inputs["build"]["buildArgs"] == {"VERSION": "1.2"}
    assert image.inputs["build"]["context"] == str(tmp_path / "api")
    # Only the project's own network is created; the external one is looked up by name.
    assert [n.inputs["name"] for n in run.of_type("docker:index/network:Network")] == [
        "slipway-mix_default"
    ]
    assert [v.inputs["name"] for v in run.of_type("docker:index/volume:Volume")] == [
        "slipway-mix_shared"
    ]
    api = run.container("slipway-mix-api-1")
    assert sorted(n["name"] for n in api.inputs["networksAdvanced"]) == [
        "proxy_edge",
        "slipway-mix_default",
    ]
    assert api.inputs["volumes"] == [{"fromContainer": "slipway-mix-data-1", "readOnly": False}]
    assert run.container("slipway-mix-data-1").urn in api.dependencies
    assert api.inputs["stopTimeout"] == 30
    assert "uploads" in api.secret_inputs  # secret contents stay encrypted in the state
    uploads = {u["file"]: u["content"] for u in api.inputs["uploads"]}
    assert uploads == {"/run/secrets/db_password": "pw\n", "/run/secrets/token": "tok"}
    data = run.container("slipway-mix-data-1")
    assert {"volumeName": "legacy_data", "containerPath": "/old", "readOnly": False} in data.inputs[
        "volumes"
    ]


def test_health_checks_output_is_what_the_orchestrator_reads(
    dev: ProgramRun, prod: ProgramRun
) -> None:
    from webhook.health import parse_health_checks

    targets = parse_health_checks(dev.outputs["healthChecks"])
    assert [(t.url, t.status, t.timeout_seconds) for t in targets] == [
        ("http://localhost/healthz", 200, 5.0)
    ]
    assert len(parse_health_checks(prod.outputs["healthChecks"])) == 2


def test_a_dockerfile_outside_the_context_is_in_the_image_tag(tmp_path: Path) -> None:
    """`dockerfile: ../Dockerfile.api`: the provider builds it; a commit that changes only it
    gets a new tag and trigger, so the image is rebuilt."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "main.sh").write_text("echo hi\n")
    dockerfile = tmp_path / "Dockerfile.api"
    text = "services:\n  api:\n    build: {context: ./api, dockerfile: ../Dockerfile.api}\n"
    tags = []
    for content in ("FROM alpine\n", "FROM alpine\nRUN true\n"):
        dockerfile.write_text(content)
        run = _program_with_compose(tmp_path, text, stack="out")
        [image] = run.of_type("docker:index/remoteImage:RemoteImage")
        assert image.inputs["build"]["dockerfile"] == "../Dockerfile.api"
        tags.append((image.inputs["name"], image.inputs["triggers"]["context"]))
    assert tags[0][0] != tags[1][0] and tags[0][1] != tags[1][1]
