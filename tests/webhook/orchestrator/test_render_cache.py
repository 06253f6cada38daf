"""The reuse of Compose's resolved model (webhook/orchestrator/render_cache.py): the same
answer only while nothing Compose reads changed; a changed file Compose reads, a changed
environment or a path Compose must interpolate renders again."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.orchestrator import render_cache

COMPOSE = """\
include:
  - parts/included.yml
services:
  web:
    image: busybox
    env_file: web.env
    extends:
      file: base.yml
      service: base
"""


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    render_cache.clear()


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    (tmp_path / "compose.yml").write_text(COMPOSE)
    (tmp_path / "web.env").write_text("A=1\n")
    (tmp_path / "base.yml").write_text("services:\n  base:\n    image: busybox\n")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts/included.yml").write_text("services:\n  db:\n    env_file: db.env\n")
    (tmp_path / "parts/db.env").write_text("B=1\n")
    (tmp_path / "NOTES.md").write_text("docs\n")
    return tmp_path


class Renders:
    """A stand-in for `docker compose config` that counts its runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> dict:
        self.count += 1
        return {"services": {"web": {"n": self.count}}}


def model(stack: Path, renders: Renders, env: dict[str, str] | None = None) -> dict:
    return render_cache.cached_model(
        [stack / "compose.yml"], project="p", profiles=["*"], env=env or {"X": "1"},
        command=["docker", "compose"], render=renders,
    )  # fmt: skip


def test_the_same_inputs_render_once_and_each_caller_gets_its_own_copy(stack: Path) -> None:
    renders = Renders()
    first = model(stack, renders)
    first["services"]["web"]["n"] = 99
    (stack / "NOTES.md").write_text("other docs\n")  # not read by Compose
    assert model(stack, renders) == {"services": {"web": {"n": 1}}}
    assert renders.count == 1


@pytest.mark.parametrize(
    "changed",
    ["compose.yml", "web.env", "base.yml", "parts/included.yml", "parts/db.env", ".env"],
)
def test_a_changed_file_compose_reads_renders_again(stack: Path, changed: str) -> None:
    renders = Renders()
    model(stack, renders)
    path = stack / changed
    path.write_text((path.read_text() if path.exists() else "") + "# changed\n")
    assert model(stack, renders)["services"]["web"]["n"] == 2


def test_a_changed_environment_renders_again(stack: Path) -> None:
    renders = Renders()
    model(stack, renders, {"X": "1"})
    assert model(stack, renders, {"X": "2"})["services"]["web"]["n"] == 2


def test_a_path_compose_must_interpolate_is_never_reused(stack: Path) -> None:
    (stack / "compose.yml").write_text(COMPOSE.replace("web.env", "${ENV_FILE}"))
    renders = Renders()
    model(stack, renders)
    model(stack, renders)
    assert renders.count == 2


@pytest.mark.parametrize(
    "remote", ["oci://registry.example/stack:1", "git@github.com:o/r.git", "https://h/c.yml"]
)
def test_a_remote_include_is_never_reused(stack: Path, remote: str) -> None:
    (stack / "compose.yml").write_text(COMPOSE.replace("parts/included.yml", remote))
    renders = Renders()
    model(stack, renders)
    model(stack, renders)
    assert renders.count == 2
