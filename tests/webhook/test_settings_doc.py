"""docs/settings.md is the settings model: generated from it, and the only table of
`SLIPWAY_*` variables; every `SLIPWAY_*` name the repository uses is known to the model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT
from webhook.settings import SETTINGS
from webhook.settings.names import GROUPS, OTHER_PROGRAMS
from webhook.settings.reference import markdown

PAGE = REPO_ROOT / "docs" / "settings.md"
GUIDES = ["webhook.md", "runbook.md", "cutover.md", "github.md", "secrets.md"]
NAME = re.compile(r"\bSLIPWAY_[A-Z0-9_]*[A-Z0-9]\b")
# Files that spell wrong names on purpose (to show them refused).
MISSPELLINGS = {
    "tests/webhook/test_settings.py",
    "tests/deploy_service/test_environment.py",
    "webhook/settings/reference.py",
    "docs/settings.md",
}


def test_the_page_is_generated_from_the_model() -> None:
    assert PAGE.read_text() == markdown(), (
        "docs/settings.md differs from the settings model: run "
        "`python -m webhook.settings --markdown > docs/settings.md`"
    )


def test_the_generator_prints_the_page() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webhook.settings", "--markdown"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == PAGE.read_text()


def test_every_setting_is_on_the_page_once() -> None:
    rows = re.findall(r"^\| `(SLIPWAY_[A-Z0-9_]+)` \|", PAGE.read_text(), re.M)
    assert sorted(rows) == sorted([*SETTINGS, *OTHER_PROGRAMS])


def settings_tables(text: str) -> list[list[str]]:
    """Tables most of whose rows are about `SLIPWAY_*` variables."""
    tables = re.findall(r"(?:^\|.*\n)+", text, re.M)
    found = []
    for table in tables:
        rows = table.splitlines()[2:]
        named = [row for row in rows if row.startswith("| `SLIPWAY_")]
        if len(named) >= 2 and len(named) * 2 > len(rows):
            found.append(named)
    return found


def test_the_guides_link_to_the_page_instead_of_a_table() -> None:
    for guide in GUIDES:
        text = (REPO_ROOT / "docs" / guide).read_text()
        assert "settings.md" in text, f"docs/{guide} does not link to docs/settings.md"
        assert settings_tables(text) == [], f"docs/{guide} tabulates settings again"
    assert len(settings_tables(PAGE.read_text())) == len(GROUPS) + 1


SOURCES = ["webhook", "components", "deploy_client", "deploy", "scripts", "stacks", "tests",
           "bench", "docs", ".ci", "Makefile", "Dockerfile", "README.md"]  # fmt: skip


def repository_files() -> list[Path]:
    files = []
    for source in SOURCES:
        top = REPO_ROOT / source
        files += [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
    return [f for f in files if f.suffix in {".py", ".sh", ".md", ".yml", ".yaml", ""}]


def test_every_slipway_name_in_the_repository_is_known() -> None:
    unknown: dict[str, str] = {}
    for file in repository_files():
        path = file.relative_to(REPO_ROOT).as_posix()
        if path in MISSPELLINGS or "node_modules" in file.parts:
            continue
        for name in NAME.findall(file.read_text(errors="replace")):
            if name not in SETTINGS and name not in OTHER_PROGRAMS:
                unknown.setdefault(name, path)
    assert unknown == {}, (
        "SLIPWAY_ names the service would refuse: add them to the settings model or to "
        f"OTHER_PROGRAMS in webhook/settings/names.py: {unknown}"
    )
