"""docs/install.md and the production-path test cannot drift apart (install_guide.py)."""

from __future__ import annotations

import re

import pytest

from tests.deploy_service.install_guide import GUIDE, NOT_HERE, RAN, REPO_ROOT, guide_commands


def test_every_command_of_the_guide_is_run_or_named_with_why() -> None:
    commands = set(guide_commands(GUIDE.read_text()))
    unlisted = commands - RAN.keys() - NOT_HERE.keys()
    assert not unlisted, (
        "docs/install.md has commands the production-path test neither runs nor names: "
        f"{sorted(unlisted)}; add each to RAN or NOT_HERE in tests/deploy_service/install_guide.py"
    )
    stale = (RAN.keys() | NOT_HERE.keys()) - commands
    assert not stale, f"install_guide.py lists commands the guide no longer has: {sorted(stale)}"
    assert not RAN.keys() & NOT_HERE.keys()


@pytest.mark.parametrize("command", sorted(RAN))
def test_where_a_command_runs_still_exists(command: str) -> None:
    path, name = RAN[command].split(":")
    text = (REPO_ROOT / path).read_text()
    defined = rf"^{re.escape(name)}\(\) \{{" if path.endswith(".sh") else rf"^def {name}\("
    assert re.search(defined, text, re.M), f"{command!r}: {path} no longer defines {name}"


def test_the_reasons_are_given() -> None:
    assert all(len(why) > 20 for why in NOT_HERE.values())
