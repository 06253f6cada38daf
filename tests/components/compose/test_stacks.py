"""The committed sample stacks are what migrating stacks/legacy produces, in meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.compose.migrate import Project, migrate, uses_extends
from components.compose.yaml_source import load_source

from .helpers import comment_lines, copy_tree, model


@pytest.mark.parametrize("name", ["app.yml", "monitoring.yml"])
def test_replaying_the_legacy_migration_gives_the_committed_stack(
    name: str, repo_root: Path, tmp_path: Path
) -> None:
    stacks = copy_tree(repo_root / "stacks", tmp_path / "stacks")
    legacy = stacks / "legacy" / name
    original = legacy.read_text()

    migrate(Project.of([legacy]), backup=False)

    assert not uses_extends(load_source(legacy))
    assert not comment_lines(original) - comment_lines(legacy.read_text())
    replayed = model([legacy], legacy.parent)
    committed = model([stacks / name], stacks)
    assert replayed == committed
    assert not uses_extends(load_source(stacks / name))


def test_app_stack_keeps_the_services_the_pulumi_program_reads(repo_root: Path) -> None:
    app = model([repo_root / "stacks" / "app.yml"], repo_root / "stacks")
    services = app["services"]
    assert set(services) == {"db", "web", "worker", "proxy"}
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert set(services["web"]["networks"]) == {"backend", "frontend"}
