"""Translation fixes found by the equivalence suite on the real engine (tests/fidelity).

Each failed there, on the real provider or engine, while the mocks accepted it; under the
mocks these pin the inputs that the real provider takes.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.components.compose_stack.test_fidelity import container, deploy


def _image(run, name: str = "p-s-image") -> dict:
    return run.named(name).inputs


def test_build_extra_hosts_are_host_ip_strings(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    run = deploy(
        tmp_path,
        """
services:
  s:
    build:
      context: ./ctx
      extra_hosts: ["buildhost=10.99.0.9", "v6=::1"]
""",
    )
    # The provider's build block takes ["host:ip"] (a map per entry was refused).
    assert _image(run)["build"]["extraHosts"] == ["buildhost:10.99.0.9", "v6:::1"]


def test_pid_and_ipc_of_another_service_join_its_first_container(tmp_path: Path) -> None:
    run = deploy(
        tmp_path,
        """
services:
  app:
    image: busybox
    ipc: shareable
  s:
    image: busybox
    pid: "service:app"
    ipc: "service:app"
""",
    )
    s = container(run)
    # Docker knows only `container:<name>` (`service:app` was refused: Invalid IPC mode).
    assert (s["pidMode"], s["ipcMode"]) == ("container:p-app-1", "container:p-app-1")
    assert run.container("p-app-1").urn in run.container("p-s-1").dependencies


def test_upload_modes_are_the_providers_four_digit_form(tmp_path: Path) -> None:
    (tmp_path / "entry.sh").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "entry.sh", 0o755)
    run = deploy(
        tmp_path,
        """
services:
  s:
    image: busybox
    volumes: ["./entry.sh:/entry.sh:ro"]
    configs: [{source: c, target: /c, mode: 0o440}]
configs:
  c: {content: "x"}
""",
    )
    uploads = {u["file"]: u["permissions"] for u in container(run)["uploads"]}
    # The provider accepts only ^0[0-7]{3}$ ("755" failed every upload on the real engine).
    assert uploads == {"/entry.sh": "0755", "/c": "0440"}


def test_an_optional_dependency_outside_the_profiles_is_not_in_the_depends_on_label(
    tmp_path: Path,
) -> None:
    run = deploy(
        tmp_path,
        """
services:
  web:
    image: busybox
  extra:
    image: busybox
    profiles: [extra]
  s:
    image: busybox
    depends_on:
      web: {condition: service_started}
      extra: {condition: service_started, required: false}
""",
    )
    labels = {e["label"]: e["value"] for e in container(run)["labels"]}
    # Compose lists only the dependencies it deploys.
    assert labels["com.docker.compose.depends_on"] == "web:service_started:false"
