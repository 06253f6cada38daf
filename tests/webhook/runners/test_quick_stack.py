"""The stack opened with no CLI run: the cached CLI version, the stack made on demand, and
the program's imports warmed while the CLI starts (webhook/runners/quick_stack.py,
webhook/runners/program_imports.py). The real CLI's side is in
tests/components/compose_stack/test_real_cli.py (no `version`, no `stack select`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pulumi import automation as auto

from webhook.runners import program_imports
from webhook.runners.quick_stack import cli_version, with_stack_created


def fake_cli(folder: Path, version: str) -> Path:
    """A `pulumi` that prints `version` and counts its runs in `runs`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "pulumi"
    script.write_text(f'#!/bin/sh\necho run >> "{folder}/runs"\necho v{version}\n')
    script.chmod(0o755)
    return script


def test_the_version_is_asked_once_per_binary_and_again_when_it_changes(tmp_path) -> None:
    cli = fake_cli(tmp_path / "bin", "3.274.1")
    cache = tmp_path / "versions.json"
    assert cli_version(str(cli), cache) == "3.274.1"
    assert cli_version(str(cli), cache) == "3.274.1"
    assert (tmp_path / "bin" / "runs").read_text().count("run") == 1
    fake_cli(tmp_path / "bin", "3.280.0")  # another binary at the same path (rewritten)
    assert cli_version(str(cli), cache) == "3.280.0"
    assert (tmp_path / "bin" / "runs").read_text().count("run") == 2


def test_an_unwritable_cache_still_answers(tmp_path) -> None:
    cli = fake_cli(tmp_path / "bin", "3.274.1")
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert cli_version(str(cli), blocked / "versions.json") == "3.274.1"


class Workspace:
    def __init__(self, exists: bool) -> None:
        self.exists = exists
        self.created: list[str] = []

    def create_stack(self, name: str) -> None:
        if self.exists:
            raise auto.StackAlreadyExistsError(auto.CommandResult("", "already exists", 255))
        self.created.append(name)
        self.exists = True


class Stack:
    def __init__(self, exists: bool) -> None:
        self.name = "dev"
        self.workspace = Workspace(exists)


def missing() -> auto.StackNotFoundError:
    return auto.StackNotFoundError(auto.CommandResult("", "no stack named 'x' found", 255))


def test_a_missing_stack_is_created_and_the_operation_runs_again() -> None:
    stack = Stack(exists=False)
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if not stack.workspace.exists:
            raise missing()
        return "done"

    assert with_stack_created(stack, operation) == "done"
    assert stack.workspace.created == ["dev"] and len(calls) == 2


def test_another_missing_stack_is_not_hidden_by_the_creation() -> None:
    stack = Stack(exists=True)  # the stack exists: a StackReference's stack is missing
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        raise missing()

    with pytest.raises(auto.StackNotFoundError):
        with_stack_created(stack, operation)
    assert stack.workspace.created == [] and len(calls) == 1  # not run again


def test_top_level_imports_are_found_in_order_once_each() -> None:
    source = (
        "from __future__ import annotations\nimport os, pulumi\n"
        "from components.config import load_config\nfrom . import sibling\n"
        "import pulumi\n\ndef later():\n    import components.github.program\n"
    )
    assert program_imports.top_level_imports(source) == ["os", "pulumi", "components.config"]
    assert program_imports.top_level_imports("def (") == []


def test_warming_imports_the_programs_modules_and_skips_broken_ones(tmp_path, monkeypatch):
    (tmp_path / "warm_ok_mod.py").write_text("VALUE = 1\n")
    (tmp_path / "warm_broken_mod.py").write_text("raise RuntimeError('broken')\n")
    main = tmp_path / "__main__.py"
    main.write_text("import warm_broken_mod\nimport warm_ok_mod\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warm_ok_mod", "warm_broken_mod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    program_imports.warm_program_imports(main)
    program_imports.wait_for_warm_imports()
    assert "warm_ok_mod" in sys.modules  # imported before the program asked
    assert "warm_broken_mod" not in sys.modules  # left for the program to report
