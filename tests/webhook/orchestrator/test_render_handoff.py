"""Compose's render handed from the service's fingerprint to the program's `up`
(webhook/orchestrator/render_handoff.py, components/compose_stack/handed_render.py): the
program runs no `docker compose` for exactly the inputs the service rendered, and runs it
again when anything Compose reads differs (a file, the environment)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.compose_stack.handed_render import ENV
from components.compose_stack.reader import load_stack_plan
from tests.support.orchestrator import FAST
from tests.support.real_stack import REPO_ROOT
from webhook.orchestrator import render_cache
from webhook.orchestrator.fingerprint import fingerprint
from webhook.orchestrator.pipeline import Pipeline
from webhook.orchestrator.render_handoff import handed_env
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind

STACK = "handoff"
REAL_COMPOSE = Path(sys.executable).parent / "docker-compose"


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log of every Compose run (SLIPWAY_DOCKER_COMPOSE wraps the real one)."""
    if not REAL_COMPOSE.exists():
        pytest.skip("docker-compose is not installed beside the interpreter (make venv)")
    log = tmp_path / "compose-calls.log"
    log.write_text("")
    wrapper = tmp_path / "compose"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{REAL_COMPOSE}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("SLIPWAY_DOCKER_COMPOSE", str(wrapper))
    render_cache.clear()
    return log


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    checkout = tmp_path / "tree"
    shutil.copytree(REPO_ROOT / "stacks/demo", checkout / "stacks/demo")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO_ROOT / name, checkout / name)
    (checkout / f"Pulumi.{STACK}.yaml").write_text(
        "config:\n  slipway:composeFiles:\n    - stacks/demo/compose.yml\n"
        "  slipway:composeProject: slipway-handoff\n"
    )
    monkeypatch.chdir(checkout)  # where the program runs
    return checkout


def plan_args(tree: Path) -> dict:
    plan = load_stack_plan([tree / "stacks/demo/compose.yml"], project="slipway-handoff")
    return {s.name: (s.args, s.image) for s in plan.services}


def runs(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "config" in line]


def test_the_program_runs_no_compose_for_what_the_service_rendered(
    tree: Path, calls: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = plan_args(tree)  # the program's own render, before any hand-off
    found = fingerprint(tree, STACK, dict(os.environ))
    with handed_env(found, tree, tree.parent / "renders") as extra:
        assert set(extra) == {ENV} and Path(extra[ENV]).is_file()
        monkeypatch.setenv(ENV, extra[ENV])
        calls.write_text("")
        assert plan_args(tree) == expected
        assert runs(calls) == [], "the program ran Compose although the render was handed"
    assert not Path(extra[ENV]).exists(), "the hand-off file outlived the `up`"


def test_a_changed_file_or_environment_runs_compose_again(
    tree: Path, calls: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = fingerprint(tree, STACK, dict(os.environ))
    with handed_env(found, tree, tree.parent / "renders") as extra:
        monkeypatch.setenv(ENV, extra[ENV])
        compose = tree / "stacks/demo/compose.yml"
        compose.write_text(compose.read_text().replace("${DEMO_RELEASE:-dev}", "changed"))
        calls.write_text("")
        web = plan_args(tree)["web"][0]
        assert any("config --format json" in line for line in runs(calls)), runs(calls)
        assert web["envs"] == ["RELEASE=changed"], web["envs"]

        compose.write_text(compose.read_text().replace("changed", "${DEMO_RELEASE:-dev}"))
        monkeypatch.setenv("DEMO_RELEASE", "from-the-environment")
        calls.write_text("")
        web = plan_args(tree)["web"][0]
        assert any("config --format json" in line for line in runs(calls)), runs(calls)
        assert web["envs"] == ["RELEASE=from-the-environment"], web["envs"]


def test_nothing_is_handed_without_a_render(tree: Path) -> None:
    with handed_env(None, tree, tree.parent / "renders") as extra:
        assert extra == {}


class RecordingSession:
    """A stack session whose `up` records the environment its child would get."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.seen = env, []

    def with_env(self, extra: dict[str, str]) -> RecordingSession:
        child = RecordingSession({**self.env, **extra})
        child.seen = self.seen
        return child

    def up(self, message: str, on_output) -> dict:
        handed = self.env.get(ENV)
        self.seen.append((handed, handed is not None and Path(handed).is_file()))
        return {}

    def set_tag(self, key: str, value: str) -> bool:
        return False


class OneTree:
    """A mirror whose every commit is the checkout `tree`."""

    def __init__(self, tree: Path, state_dir: Path) -> None:
        self.tree, self.state_dir = tree, state_dir

    def resolve(self, sha: str) -> str:
        return sha

    @contextmanager
    def worktree(self, sha: str, name: str, resolved: bool = False) -> Iterator[Path]:
        yield self.tree


def test_the_pipeline_hands_the_fingerprints_render_to_the_up(tree: Path, calls: Path) -> None:
    session = RecordingSession(dict(os.environ))
    runner = SimpleNamespace(open=lambda stack, work_dir, binds=None: session)
    store = Store.open(tree.parent / "state/slipway.db")
    try:
        pipeline = Pipeline(store, OneTree(tree, tree.parent / "state"), runner, FAST)
        new = NewDeployment(kind=DeploymentKind.DEPLOY, stack=STACK, sha="a" * 40)
        deployment = store.create_deployment(new)
        pipeline.run(deployment, threading.Event())
        log = [entry.line for entry in store.read_log(deployment.id)]
    finally:
        store.close()
    assert len(session.seen) == 1, log
    handed, existed = session.seen[0]
    assert handed is not None and existed, log
    assert not Path(handed).exists(), "the hand-off file outlived the `up`"
    assert any("up starting" in line and "render handed" in line for line in log), log
