"""The fingerprint of a rendered stack (webhook/orchestrator/fingerprint.py) and the engine
comparison of the unchanged path (webhook/orchestrator/engine_state.py `differences`)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.real_stack import REPO_ROOT
from tests.webhook.orchestrator.test_release_watch import RUNNING
from webhook.orchestrator.engine_state import differences
from webhook.orchestrator.fingerprint import FingerprintError, fingerprint

STACK = "fp"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(REPO_ROOT / "stacks/demo", tree / "stacks/demo")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO_ROOT / name, tree / name)
    (tree / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n  slipway:composeFiles:\n    - stacks/demo/compose.yml\n"
        "  slipway:composeProject: slipway-fp\n"
    )
    return tree


def test_a_doc_change_keeps_the_fingerprint_and_each_deployed_change_alters_it(
    checkout: Path,
) -> None:
    env = dict(os.environ)
    base = fingerprint(checkout, STACK, env)
    assert base.project == "slipway-fp"
    (checkout / "README.md").write_text("docs only")
    assert fingerprint(checkout, STACK, env).digest == base.digest

    changes = {
        "compose model": lambda: fingerprint(checkout, STACK, {**env, "DEMO_RELEASE": "r2"}),
        "files the model names": lambda: (
            (checkout / "stacks/demo/web/extra.txt").write_text("x"),
            fingerprint(checkout, STACK, env),
        )[1],
    }
    for part, changed in changes.items():
        found = changed()
        assert found.digest != base.digest
        assert part in found.differences(base.parts)


def test_a_stack_config_change_and_a_missing_config_are_told(checkout: Path) -> None:
    base = fingerprint(checkout, STACK, dict(os.environ))
    config = checkout / f"Pulumi.{STACK}.yaml"
    config.write_text(config.read_text() + "  slipway:profiles: []\n")
    found = fingerprint(checkout, STACK, dict(os.environ))
    assert found.differences(base.parts) == ["stack config"]
    with pytest.raises(FingerprintError, match=r"no stack config Pulumi\.other\.yaml"):
        fingerprint(checkout, "org/proj/other", dict(os.environ))


def test_the_engine_comparison_names_each_difference() -> None:
    recorded = {RUNNING.name: RUNNING}
    assert differences(recorded, {RUNNING.name: RUNNING}) == []
    assert differences(recorded, {}) == ["container p-web-1 is missing"]
    recreated = replace(RUNNING, id="c2")
    assert "was recreated" in differences(recorded, {RUNNING.name: recreated})[0]
    retagged = replace(RUNNING, image_tags=())
    assert differences(recorded, {RUNNING.name: retagged}) == [
        "p-web:ctx-1 no longer names the image p-web-1 runs (sha256:a): the tag was rebuilt "
        "with other content or removed"
    ]
    updated = replace(RUNNING, config_hash="other")
    assert differences(recorded, {RUNNING.name: updated}) == [
        "container p-web-1's config changed in place"
    ]
    restarted = replace(RUNNING, restart_count=1)
    assert differences(recorded, {RUNNING.name: restarted}) == ["container p-web-1 restarted since"]


def test_the_project_expands_variables_as_the_program_does(tmp_path: Path) -> None:
    """Pulumi.dev.yaml says `${DEMO_PROJECT:-slipway-dev}` (issue 34): the fingerprint and
    the crash watch look for the containers the program made, under the expanded name."""
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  slipway:composeFiles: [a.yml]\n"
        "  slipway:composeProject: ${DEMO_PROJECT:-slipway-dev}\n"
    )
    from webhook.orchestrator.fingerprint import stack_files

    assert stack_files(tmp_path, "dev", {"DEMO_PROJECT": "slipway-alice"}).project == (
        "slipway-alice"
    )
    assert stack_files(tmp_path, "dev", {}).project == "slipway-dev"
