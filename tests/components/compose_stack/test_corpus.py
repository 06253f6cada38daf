"""The whole program under mocks for every project of the real-world Compose corpus.

Each manifest entry is read in place with its `main` files (Compose's project directory is
the folder of the first file, as with `cd <dir> && docker-compose -f <main> config`). Each
either declares a container per service replica, or fails with the documented error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.compose.docker_compose import compose_config
from components.compose_stack import ComposeTranslationError
from tests.support.paths import corpus_entries
from tests.support.program_run import run_program


def _expected_containers(service: dict) -> int:
    deploy = service.get("deploy") or {}
    if deploy.get("mode") == "global":
        return 1
    return deploy.get("replicas", service.get("scale", 1))


def _with_build_contexts(entry: dict, corpus_dir: Path, tmp_path: Path) -> list[str]:
    """The entry's main files in a copy whose build contexts exist: the corpus keeps only
    Compose files, and Slipway refuses a build context that is not a folder (or a
    Dockerfile outside it that cannot be read: it is hashed into the image's tag)."""
    copy = tmp_path / entry["dir"]
    shutil.copytree(corpus_dir / entry["dir"], copy)
    files = [str(copy / f) for f in entry["main"]]
    try:
        model = compose_config(files, project_name="corpus", profiles=())
    except Exception:
        return files  # the program reports Compose's own refusal
    for service in model["services"].values():
        context = (service.get("build") or {}).get("context")
        if context and "://" not in context:
            Path(context).mkdir(parents=True, exist_ok=True)
            dockerfile = Path(context, service["build"].get("dockerfile") or "Dockerfile")
            if not dockerfile.resolve().is_relative_to(Path(context).resolve()):
                dockerfile.parent.mkdir(parents=True, exist_ok=True)
                dockerfile.touch()
    return files


@pytest.mark.parametrize("entry", corpus_entries())
def test_corpus_entry_is_declared_or_rejected_clearly(
    entry: dict, corpus_dir: Path, tmp_path: Path
) -> None:
    files = _with_build_contexts(entry, corpus_dir, tmp_path)
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
    images = run.of_type("docker:index/remoteImage:RemoteImage")
    assert len(images) == len(services)
    networks = [n for n in (model.get("networks") or {}).values() if not n.get("external")]
    assert len(run.of_type("docker:index/network:Network")) == len(networks)
    uses_extends = any("extends" in w for w in run.warnings)
    assert uses_extends == any(
        "extends" in (corpus_dir / entry["dir"] / f).read_text() for f in entry["main"]
    )
