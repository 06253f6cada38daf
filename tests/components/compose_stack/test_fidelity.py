"""Issue 13, Compose fidelity: each behaviour that differed from `docker compose up`.

The Compose files go through Docker Compose itself (`docker compose config`), the
translation and the component, under Pulumi's mocks; the assertions are on what the docker
provider would receive.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.compose.docker_compose import find_compose_command
from components.compose_stack import ComposeTranslationError
from components.config import ConfigError
from tests.support.program_run import Declared, ProgramRun, run_program


def deploy(tmp_path: Path, compose: str, **files: str) -> ProgramRun:
    """Run the program for `compose` (project `p`) with extra project `files` next to it."""
    (tmp_path / "compose.yml").write_text(compose)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    config = {
        "slipway:composeFiles": [str(tmp_path / "compose.yml")],
        "slipway:composeProject": "p",
    }
    return run_program("fidelity", config)


def container(run: ProgramRun, name: str = "p-s-1") -> dict:
    return run.container(name).inputs


def test_literal_dollars_reach_the_engine_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PASS", "p@ss$word")
    run = deploy(
        tmp_path,
        """
services:
  s:
    image: busybox
    command: ["sh", "-c", "echo $$HOME"]
    environment: {PW: "${PASS}", LIT: "a$$b"}
    env_file: [app.env]
    labels: {price: "5$$"}
    healthcheck: {test: ["CMD-SHELL", "test $$PPID"]}
""",
        **{"app.env": "FROM_FILE='x$y'\n"},
    )
    s = container(run)
    assert s["command"] == ["sh", "-c", "echo $HOME"]
    assert sorted(s["envs"]) == ["FROM_FILE=x$y", "LIT=a$b", "PW=p@ss$word"]
    assert {"label": "price", "value": "5$"} in s["labels"]
    assert s["healthcheck"]["tests"] == ["CMD-SHELL", "test $PPID"]


def _volume_names(run: ProgramRun) -> list[str]:
    return sorted(r.inputs["name"] for r in run.of_type("docker:index/volume:Volume"))


def test_anonymous_volumes_are_managed_volumes_that_outlive_a_replacement(tmp_path: Path) -> None:
    compose = """
services:
  s:
    image: postgres:{tag}
    scale: 2
    volumes: ["/var/lib/postgresql/data"]
"""
    first = deploy(tmp_path, compose.format(tag="16"))
    second = deploy(tmp_path, compose.format(tag="17"))  # a new image replaces the containers
    names = _volume_names(first)
    assert names == _volume_names(second)
    assert len(names) == 2  # one per container, as Compose gives each container its own
    for run in (first, second):
        for replica, volume in zip(("p-s-1", "p-s-2"), names, strict=True):
            s = container(run, replica)
            assert s["volumes"] == [
                {
                    "volumeName": volume,
                    "containerPath": "/var/lib/postgresql/data",
                    "readOnly": False,
                }
            ]
            assert volume.startswith(f"{replica}_var-lib-postgresql-data-")
            # An image's own VOLUMEs stay on the host when the container is replaced.
            assert s["removeVolumes"] is False


def _upload(s: dict, target: str) -> dict:
    return next(u for u in s["uploads"] if u["file"] == target)


def test_read_only_project_file_keeps_its_mode_and_owner(tmp_path: Path) -> None:
    compose = """
services:
  s:
    image: busybox
    entrypoint: ["/usr/local/bin/entry.sh"]
    volumes: ["./entry.sh:/usr/local/bin/entry.sh:ro", "./site.conf:/etc/site.conf:ro"]
"""
    (tmp_path / "entry.sh").write_text("#!/bin/sh\nexec sleep 1\n")
    (tmp_path / "entry.sh").chmod(0o750)
    (tmp_path / "site.conf").write_text("x\n")
    (tmp_path / "site.conf").chmod(0o604)
    s = container(deploy(tmp_path, compose))
    stat = (tmp_path / "entry.sh").stat()
    assert _upload(s, "/usr/local/bin/entry.sh") == {
        "file": "/usr/local/bin/entry.sh",
        "content": "#!/bin/sh\nexec sleep 1\n",
        "permissions": "0750",  # executable, as the bind mount of `docker compose up` shows it
        "owner": str(stat.st_uid),
        "group": str(stat.st_gid),
    }
    assert _upload(s, "/etc/site.conf")["permissions"] == "0604"


def test_secrets_and_configs_like_compose_outside_swarm(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOKEN", "t0k")
    compose = """
services:
  s:
    image: busybox
    secrets:
      - {source: pw, mode: 0400, uid: "1000"}
      - token
    configs:
      - {source: motd, target: /etc/motd, uid: "7", gid: "8", mode: 0440}
secrets:
  pw: {file: ./pw.txt}
  token: {environment: TOKEN}
configs:
  motd: {content: hello}
"""
    (tmp_path / "pw.txt").write_text("secret\n")
    (tmp_path / "pw.txt").chmod(0o640)
    run = deploy(tmp_path, compose)
    s = container(run)
    stat = (tmp_path / "pw.txt").stat()
    # A `file` secret: the file's own mode and owner; the reference's are ignored, warned.
    password = _upload(s, "/run/secrets/pw")
    assert (password["permissions"], password["owner"], password["group"]) == (
        "0640",
        str(stat.st_uid),
        str(stat.st_gid),
    )
    assert any("secrets: pw uid/gid/mode" in w and "is ignored" in w for w in run.warnings)
    # Written secrets and configs: the reference's uid/gid/mode, default mode 0444.
    token = _upload(s, "/run/secrets/token")
    assert token["permissions"] == "0444" and "owner" not in token
    motd = _upload(s, "/etc/motd")
    assert (motd["permissions"], motd["owner"], motd["group"]) == ("0440", "7", "8")


def test_read_only_service_mounts_file_secrets_and_refuses_written_ones(tmp_path: Path) -> None:
    compose = """
services:
  s:
    image: busybox
    read_only: true
    secrets: [pw]
    volumes: ["./site.conf:/etc/site.conf:ro"]
secrets:
  pw: {file: ./pw.txt}
"""
    (tmp_path / "pw.txt").write_text("secret\n")
    (tmp_path / "site.conf").write_text("x\n")
    run = deploy(tmp_path, compose)
    s = container(run)
    # Docker cannot copy files into a read-only root file system: bind mounts, as Compose.
    assert "uploads" not in s
    warned = [w for w in run.warnings if "is bind-mounted (a `read_only` service" in w]
    assert len(warned) == 2  # the checkout holding them goes away after a deployment
    assert sorted(v["containerPath"] for v in s["volumes"]) == ["/etc/site.conf", "/run/secrets/pw"]
    assert all(v["readOnly"] for v in s["volumes"])
    with pytest.raises(ComposeTranslationError, match="a `read_only` service cannot have a file"):
        deploy(tmp_path, compose.replace("file: ./pw.txt", "environment: HOME"))


JOB_STACK = """
services:
  migrate:
    image: busybox
    command: ["false"]
  app:
    image: busybox
    depends_on:
      migrate: {condition: service_completed_successfully}
"""


def _deploy_job(tmp_path: Path, exit_code: int, run: ProgramRun) -> ProgramRun:
    (tmp_path / "compose.yml").write_text(JOB_STACK)
    config = {
        "slipway:composeFiles": [str(tmp_path / "compose.yml")],
        "slipway:composeProject": "p",
    }
    return run_program("fidelity", config, exit_codes={"p-migrate-1": exit_code}, run=run)


def _names(run: ProgramRun) -> set[str]:
    return {r.inputs["name"] for r in run.of_type("docker:index/container:Container")}


def test_a_failed_job_stops_its_dependants(tmp_path: Path) -> None:
    succeeded = _deploy_job(tmp_path, 0, ProgramRun())
    assert _names(succeeded) == {"p-migrate-1", "p-app-1"}
    app = succeeded.container("p-app-1")
    assert succeeded.container("p-migrate-1").urn in app.dependencies
    failed = ProgramRun()
    with pytest.raises(Exception, match=r"p-migrate-1 exited with code 3") as error:
        _deploy_job(tmp_path, 3, failed)
    assert "docker logs p-migrate-1" in str(error.value)
    assert _names(failed) == {"p-migrate-1"}  # Compose does not start `app` either


def test_published_ports_listen_on_ipv4_and_ipv6_like_compose(tmp_path: Path) -> None:
    compose = """
services:
  s:
    image: nginx
    ports: ["8080:80", "127.0.0.1:8443:443", "[::1]:9000:9000", "53:53/udp", "53:53/tcp"]
"""
    s = container(deploy(tmp_path, compose))
    # In the order the provider reads ports back from Docker (container port, protocol,
    # host port, IPv4 first), or every later deployment would see a change and replace it.
    assert s["ports"] == [
        {"internal": 53, "external": 53, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 53, "external": 53, "protocol": "tcp", "ip": "::"},
        {"internal": 53, "external": 53, "protocol": "udp", "ip": "0.0.0.0"},
        {"internal": 53, "external": 53, "protocol": "udp", "ip": "::"},
        {"internal": 80, "external": 8080, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 80, "external": 8080, "protocol": "tcp", "ip": "::"},
        {"internal": 443, "external": 8443, "protocol": "tcp", "ip": "127.0.0.1"},
        {"internal": 9000, "external": 9000, "protocol": "tcp", "ip": "::1"},
    ]


@pytest.mark.parametrize(
    ("settings", "restart", "retries"),
    [
        ("deploy: {restart_policy: {max_attempts: 0}}", "no", None),  # no condition: no policy
        ("deploy: {restart_policy: {delay: 5s}}", "no", None),
        (
            "restart: always\n    deploy: {restart_policy: {condition: on-failure}}",
            "on-failure",
            None,
        ),
        ("restart: 'no'\n    deploy: {restart_policy: {condition: any}}", "always", None),
        ("deploy: {restart_policy: {condition: on-failure, max_attempts: 4}}", "on-failure", 4),
        ("restart: on-failure:3", "on-failure", 3),
        ("restart: unless-stopped", "unless-stopped", None),
    ],
)
def test_restart_policy_like_compose(tmp_path: Path, settings: str, restart, retries) -> None:
    s = container(deploy(tmp_path, f"services:\n  s:\n    image: busybox\n    {settings}\n"))
    assert (s["restart"], s.get("maxRetryCount")) == (restart, retries)


def test_a_retry_count_without_on_failure_is_refused_like_the_engine(tmp_path: Path) -> None:
    compose = (
        "services:\n  s:\n    image: busybox\n    deploy: {restart_policy: {max_attempts: 3}}\n"
    )
    with pytest.raises(
        ComposeTranslationError, match="Docker counts restarts only with on-failure"
    ):
        deploy(tmp_path, compose)


def test_dns_order_the_provider_would_change_is_refused(tmp_path: Path) -> None:
    # The provider hands Docker its sets sorted by the CRC-32 of each value, as text.
    kept = container(deploy(tmp_path, DNS_STACK.format(dns="[1.1.1.1, 8.8.8.8]", search="[x.lan]")))
    assert (kept["dns"], kept["dnsSearches"]) == (["1.1.1.1", "8.8.8.8"], ["x.lan"])
    with pytest.raises(ComposeTranslationError) as refused:
        deploy(
            tmp_path, DNS_STACK.format(dns="[8.8.8.8, 1.1.1.1]", search="[a.example, b.example]")
        )
    assert refused.value.problems == [
        "service `s`: `dns: ['8.8.8.8', '1.1.1.1']` is not supported: the docker provider keeps "
        "`dns` as a set and would give Docker the order ['1.1.1.1', '8.8.8.8']; write them in "
        "that order if it suits you, or keep one",
        "service `s`: `dns_search: ['a.example', 'b.example']` is not supported: the docker "
        "provider keeps `dns_search` as a set and would give Docker the order ['b.example', "
        "'a.example']; write them in that order if it suits you, or keep one",
    ]


DNS_STACK = """
services:
  s:
    image: busybox
    dns: {dns}
    dns_search: {search}
"""


def _service(tmp_path: Path, settings: str) -> dict:
    return container(deploy(tmp_path, f"services:\n  s:\n    image: busybox\n    {settings}\n"))


def test_empty_entrypoint_resets_the_image_entrypoint(tmp_path: Path) -> None:
    s = _service(tmp_path, "entrypoint: []\n    command: [sleep, '5']")
    # The provider drops an empty list; the whole command line as entrypoint runs the same.
    assert (s["entrypoints"], s.get("command")) == (["sleep", "5"], None)
    with pytest.raises(ComposeTranslationError, match=r"`entrypoint: \[\]` is not supported"):
        _service(tmp_path, "entrypoint: []")


def test_a_command_with_an_empty_argument_reaches_the_process(tmp_path: Path) -> None:
    s = _service(tmp_path, "entrypoint: [sh, -c]\n    command: ['echo \"[$$0]\"', '']")
    assert (s["entrypoints"], s.get("command")) == (["sh", "-c", 'echo "[$0]"', ""], None)
    with pytest.raises(ComposeTranslationError, match="refuses an empty argument in `command`"):
        _service(tmp_path, "command: [echo, '']")


def test_stop_grace_period_zero_stops_at_once(tmp_path: Path) -> None:
    s = _service(tmp_path, "stop_grace_period: 0s")
    # stop_timeout 0 is "unset" for the provider (10 s): kill at once instead.
    assert (s["stopSignal"], s.get("stopTimeout")) == ("SIGKILL", None)
    s = _service(tmp_path, "stop_grace_period: 2500ms")
    assert (s["stopTimeout"], s["destroyGraceSeconds"]) == (2, 2)  # truncated, as Compose


def test_expose_is_warned_with_what_to_do(tmp_path: Path) -> None:
    run = deploy(tmp_path, "services:\n  s:\n    image: nginx\n    expose: ['80']\n")
    assert any("`expose` is ignored" in w and "loadbalancer.server.port" in w for w in run.warnings)


def test_a_link_alias_that_names_another_service_is_refused(tmp_path: Path) -> None:
    compose = """
services:
  db: {image: postgres}
  cache: {image: redis}
  s:
    image: busybox
    links: ["db:cache"]
"""
    with pytest.raises(ComposeTranslationError, match=r"`cache` already names `cache`"):
        deploy(tmp_path, compose)
    run = deploy(tmp_path, compose.replace("db:cache", "db:database"))
    aliases = run.container("p-db-1").inputs["networksAdvanced"][0]["aliases"]
    assert aliases == ["db", "database"]


def test_blkio_limits_nocopy_subpath_and_propagation_are_deployed(tmp_path: Path) -> None:
    compose = """
services:
  s:
    image: busybox
    blkio_config:
      device_read_bps: [{path: /dev/sda, rate: 12mb}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    volumes:
      - {type: volume, source: data, target: /data, volume: {nocopy: true, subpath: app}}
      - {type: volume, target: /cache, volume: {nocopy: true}}
      - {type: bind, source: /mnt, target: /mnt, read_only: true, bind: {propagation: rslave}}
      - {type: volume, source: data, target: /plain}
volumes:
  data: {}
"""
    s = container(deploy(tmp_path, compose))
    assert s["deviceReadBps"] == [{"path": "/dev/sda", "rate": 12 * 1024 * 1024}]
    assert s["deviceWriteIops"] == [{"path": "/dev/sda", "rate": 30}]
    cache = s["mounts"][1]["source"]
    assert cache.startswith("p-s-1_cache-")
    assert s["mounts"] == [
        {
            "target": "/data",
            "readOnly": False,
            "type": "volume",
            "source": "p_data",
            "volumeOptions": {"noCopy": True, "subpath": "app"},
        },
        {
            "target": "/cache",
            "readOnly": False,
            "type": "volume",
            "source": cache,
            "volumeOptions": {"noCopy": True},
        },
        {
            "target": "/mnt",
            "readOnly": True,
            "type": "bind",
            "source": "/mnt",
            "bindOptions": {"propagation": "rslave"},
        },
    ]
    assert s["volumes"] == [{"volumeName": "p_data", "containerPath": "/plain", "readOnly": False}]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            "healthcheck: {test: [CMD, 'true'], start_interval: 1s}",
            "`healthcheck.start_interval without start_period` is not supported",
        ),
        ("cpus: 0.5\n    cpu_period: 100000", "`cpus with cpu_period/cpu_quota` is not supported"),
        ("cpu_quota: 50000\n    deploy: {resources: {limits: {cpus: '1'}}}", "cpu_quota"),
        ("blkio_config: {weight: 300}", "`blkio_config.weight` is not supported"),
    ],
)
def test_what_compose_or_the_engine_refuses_is_refused(tmp_path, settings, message) -> None:
    with pytest.raises(ComposeTranslationError, match=message):
        _service(tmp_path, settings)


def _labels(resource: Declared) -> dict[str, str]:
    return {e["label"]: e["value"] for e in resource.inputs.get("labels") or []}


def test_compose_sees_the_stack_through_its_labels(tmp_path: Path) -> None:
    compose = """
services:
  db:
    image: postgres
    volumes: ["data:/var/lib/postgresql/data", "/scratch"]
  s:
    image: busybox
    scale: 2
    labels: {com.example.team: shop, com.docker.compose.project: spoofed}
    depends_on: {db: {condition: service_started}}
volumes:
  data: {}
"""
    run = deploy(tmp_path, compose)
    version = subprocess.run(
        [*find_compose_command(), "version", "--short"], capture_output=True, text=True
    ).stdout.strip()
    # `docker compose ps/logs -p p` list containers by project, service, number and oneoff,
    # and only those with a config hash: Compose's own (`config --hash`).
    second = _labels(run.container("p-s-2"))
    files = str(tmp_path / "compose.yml")  # outside the project folder: shown in full
    hashes = subprocess.run(
        [*find_compose_command(), "-p", "p", "-f", files, "config", "--hash", "*"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    assert second.pop("com.docker.compose.config-hash") == hashes[hashes.index("s") + 1]
    assert second == {
        "com.example.team": "shop",
        "com.docker.compose.project": "p",
        "com.docker.compose.service": "s",
        "com.docker.compose.container-number": "2",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.depends_on": "db:service_started:false",
        "com.docker.compose.project.working_dir": str(tmp_path),
        "com.docker.compose.project.config_files": files,
        "com.docker.compose.version": version,
    }
    assert _labels(run.container("p-db-1"))["com.docker.compose.container-number"] == "1"
    network = run.of_type("docker:index/network:Network")[0]
    assert _labels(network) == {
        "com.docker.compose.project": "p",
        "com.docker.compose.network": "default",
        "com.docker.compose.version": version,
    }
    volumes = {v.inputs["name"]: v for v in run.of_type("docker:index/volume:Volume")}
    assert _labels(volumes.pop("p_data")) == {
        "com.docker.compose.project": "p",
        "com.docker.compose.volume": "data",
        "com.docker.compose.version": version,
    }
    [anonymous] = volumes.values()  # not a volume of the Compose file: no volume key
    assert _labels(anonymous) == {
        "com.docker.compose.project": "p",
        "com.docker.compose.version": version,
    }
    # Labels never replace a network or a volume that exists (nor its data).
    assert network.ignore_changes == anonymous.ignore_changes == ["labels"]


def test_a_read_only_anonymous_volume_stays_read_only(tmp_path: Path) -> None:
    s = _service(tmp_path, "volumes: [{type: volume, target: /seed, read_only: true}]")
    assert [v["readOnly"] for v in s["volumes"]] == [True]


def test_the_deploy_service_guard_still_sees_the_files_labels(tmp_path: Path) -> None:
    # Compose's labels are added per container; the file's own stay in the service's args.
    compose = "services:\n  s:\n    image: busybox\n    labels: {io.slipway.role: deploy-service}\n"
    with pytest.raises(ConfigError, match=r"carries the label io\.slipway\.role=deploy-service"):
        deploy(tmp_path, compose)
