"""The whole program under mocks for every project of the real-world Compose corpus.

Each manifest entry is read in place with its `main` files (Compose's project directory is
the folder of the first file, as with `cd <dir> && docker-compose -f <main> config`). Each
either declares a container per service replica, or fails with the documented error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.docker_compose import compose_config
from components.compose_stack import ComposeTranslationError
from tests.conftest import corpus_entries
from tests.program.harness import run_program


def _expected_containers(service: dict) -> int:
    deploy = service.get("deploy") or {}
    if deploy.get("mode") == "global":
        return 1
    return deploy.get("replicas", service.get("scale", 1))


@pytest.mark.parametrize("entry", corpus_entries())
def test_corpus_entry_is_declared_or_rejected_clearly(entry: dict, corpus_dir: Path) -> None:
    files = [str(corpus_dir / entry["dir"] / f) for f in entry["main"]]
    project = "corpus"
    try:
        run = run_program(
            "corpus", {"slipway:composeFiles": files, "slipway:composeProject": project}
        )
    except ComposeTranslationError as error:
        # The documented failure: every problem names a service (or network/volume) and a key.
        assert error.problems
        for problem in error.problems:
            assert ("`" in problem and "is not supported" in problem) or "cycle" in problem
        return
    model = compose_config(files, project_name=project, profiles=())
    services = model["services"]
    containers = {r.inputs["name"] for r in run.of_type("docker:index/container:Container")}
    assert len(containers) == sum(_expected_containers(s) for s in services.values())
    for name, service in services.items():
        if _expected_containers(service):
            expected = service.get("container_name") or f"{project}-{name}-1"
            assert run.outputs["services"][name] == expected
            assert expected in containers
    images = run.of_type("docker:index/remoteImage:RemoteImage") + run.of_type(
        "docker:index/image:Image"
    )
    assert len(images) == len(services)
    networks = [n for n in (model.get("networks") or {}).values() if not n.get("external")]
    assert len(run.of_type("docker:index/network:Network")) == len(networks)
    uses_extends = any("extends" in w for w in run.warnings)
    assert uses_extends == any(
        "extends" in (corpus_dir / entry["dir"] / f).read_text() for f in entry["main"]
    )
