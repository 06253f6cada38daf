"""The image's build inputs: what `.dockerignore` sends is hashed, nothing else is."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.deploy_service.image_context import (
    ImageContextError,
    context_digest,
    parse_dockerignore,
)
from tests.support.paths import REPO_ROOT


def context(tmp_path: Path) -> Path:
    (tmp_path / ".dockerignore").write_text("*\n!app/\n!requirements.lock\n**/__pycache__\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('v1')\n")
    (tmp_path / "requirements.lock").write_text("x==1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text("")
    return tmp_path


def test_a_file_the_build_reads_changes_the_digest(tmp_path: Path) -> None:
    root = context(tmp_path)
    before = context_digest(root)
    (root / "app" / "main.py").write_text("print('v2')\n")
    assert context_digest(root) != before


def test_files_the_build_never_sees_do_not(tmp_path: Path) -> None:
    root = context(tmp_path)
    before = context_digest(root)
    (root / "tests" / "test_app.py").write_text("assert True\n")
    (root / "app" / "__pycache__").mkdir()
    (root / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (root / "notes.md").write_text("hi")
    assert context_digest(root) == before


def test_dockerfile_and_build_arguments_are_inputs(tmp_path: Path) -> None:
    root = context(tmp_path)
    before = context_digest(root)
    assert context_digest(root, build_args={"BASE_IMAGE": "debian"}) != before
    (root / "Dockerfile").write_text("FROM busybox\n")
    assert context_digest(root) != before


def test_the_repositorys_own_dockerignore_is_an_allowlist() -> None:
    ignore = parse_dockerignore((REPO_ROOT / ".dockerignore").read_text())
    assert ignore.sends("webhook/http/app.py")
    assert not ignore.sends("webhook/__pycache__/app.cpython-311.pyc")
    assert not ignore.sends("Pulumi.control.yaml")
    assert not ignore.sends("tests/conftest.py")


def test_a_denylist_dockerignore_is_refused_with_the_fix() -> None:
    with pytest.raises(ImageContextError, match="must start with `\\*`"):
        parse_dockerignore(".git\n*.md\n")


def test_a_missing_dockerfile_names_the_fix(tmp_path: Path) -> None:
    root = context(tmp_path)
    (root / "Dockerfile").unlink()
    with pytest.raises(ImageContextError, match="from the repository's root"):
        context_digest(root)
