"""The `migrate` command line: modes, exit codes, and bad inputs that leave files alone."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from components.compose import cli
from components.compose.migration_plan import Planner

BASE = """\
# the shared base
services:
  base:
    image: nginx:1.27
    environment:
      A: "1"
  web:
    extends: base  # reuse the base
    environment:
      B: "2"
"""


def _run(*argv: str | Path) -> tuple[int, str]:
    buffer = io.StringIO()
    code = cli.run([str(a) for a in argv], buffer)
    return code, buffer.getvalue()


def _write(tmp_path: Path, text: str, name: str = "compose.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _untouched(path: Path, text: str) -> None:
    assert path.read_text() == text
    assert not path.with_name(path.name + ".orig").exists()
    assert not list(path.parent.glob(".*.migrating"))


def test_migrate_rewrites_keeps_backup_and_reports(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    code, out = _run("migrate", path)
    assert code == cli.EXIT_OK
    text = path.read_text()
    assert "extends" not in text
    assert "  base: &base\n" in text
    assert "<<: *base  # reuse the base" in text
    assert "      <<: *base-environment\n" in text
    assert path.with_name("compose.yml.orig").read_text() == BASE
    assert "migrated 1 service(s) (web)" in out
    assert "base-environment" in out


def test_migrate_twice_is_idempotent_and_no_backup_keeps_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    assert _run("migrate", "--no-backup", path)[0] == cli.EXIT_OK
    once = path.read_text()
    code, out = _run("migrate", "--no-backup", path)
    assert code == cli.EXIT_OK
    assert path.read_text() == once
    assert "unchanged" in out
    assert not path.with_name("compose.yml.orig").exists()


def test_check_exits_1_while_extends_is_used_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    code, out = _run("migrate", "--check", path)
    assert code == cli.EXIT_CHECK_FAILED
    assert "still uses `extends`" in out
    _untouched(path, BASE)
    _run("migrate", path)
    assert _run("migrate", "--check", path)[0] == cli.EXIT_OK


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    code, diff = _run("migrate", "--diff", path)
    assert code == cli.EXIT_OK
    assert "-    extends: base  # reuse the base" in diff
    assert "+    <<: *base  # reuse the base" in diff
    _untouched(path, BASE)


def test_project_files_migrate_an_override_in_its_project(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    _write(
        tmp_path / "lib", "services:\n  app:\n    build: ./app\n    env_file: app.env\n", "x.yml"
    )
    (tmp_path / "lib" / "app.env").write_text("FROM_ENV_FILE=1\n")
    main = _write(tmp_path, "services:\n  db:\n    image: postgres:16\n")
    override_text = (
        "services:\n  web:\n    extends:\n      file: lib/x.yml\n      service: app\n"
        "    depends_on: [db]\n"
    )
    override = _write(tmp_path, override_text, "override.yml")
    code, out = _run("migrate", "-f", main, "-f", override, "--no-backup")
    assert code == cli.EXIT_OK, out
    text = override.read_text()
    assert "x-app: &app" in text
    assert "build: ./lib/app" in text
    assert "env_file: ./lib/app.env" in text
    assert main.read_text() == "services:\n  db:\n    image: postgres:16\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "services:\n  web:\n    image: a\n    extends: nothere\n",
            ["compose.yml:4", "service 'web'", "'nothere' is not defined"],
        ),
        (
            "services:\n  web:\n    extends:\n      file: missing.yml\n      service: a\n",
            ["compose.yml:3", "service 'web'", "'missing.yml' not found"],
        ),
        (
            "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n",
            ["compose.yml:4", "cycle", "a -> b -> a"],
        ),
        ("services:\n  web: [unclosed\n", ["compose.yml:", "invalid YAML"]),
        (
            "services:\n  b:\n    image: x\n  web:\n    extends: b\n    depends_on: [missing]\n",
            ["compose.yml", "`config` rejects", "missing"],
        ),
    ],
    ids=["missing-service", "missing-file", "cycle", "invalid-yaml", "config-rejects"],
)
def test_bad_input_gives_a_clear_error_and_leaves_the_file(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = _write(tmp_path, text)
    code, out = _run("migrate", path)
    assert code == cli.EXIT_BAD_INPUT
    for fragment in expected:
        assert fragment in out
    _untouched(path, text)


def test_a_result_that_is_not_equivalent_is_refused_with_the_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a planner bug: the nested merge of `environment` is dropped.
    monkeypatch.setattr(Planner, "_insert_merge", lambda self, node, anchor: None)
    path = _write(tmp_path, BASE)
    code, out = _run("migrate", path)
    assert code == cli.EXIT_NOT_EQUIVALENT
    assert "services.web.environment.A: only before migration" in out
    _untouched(path, BASE)


def test_target_outside_the_project_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    other = _write(tmp_path, BASE, "other.yml")
    code, out = _run("migrate", "-f", path, other)
    assert code == cli.EXIT_BAD_INPUT
    assert "not one of the project's -f files" in out
    _untouched(other, BASE)
