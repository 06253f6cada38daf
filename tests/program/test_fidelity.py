"""Issue 13, Compose fidelity: each behaviour that differed from `docker compose up`.

The Compose files go through Docker Compose itself (`docker compose config`), the
translation and the component, under Pulumi's mocks; the assertions are on what the docker
provider would receive.
"""

from __future__ import annotations

from pathlib import Path

from tests.program.harness import ProgramRun, run_program


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
                {"volumeName": volume, "containerPath": "/var/lib/postgresql/data"}
            ]
            assert volume.startswith(f"{replica}_var-lib-postgresql-data-")
            # An image's own VOLUMEs stay on the host when the container is replaced.
            assert s["removeVolumes"] is False
