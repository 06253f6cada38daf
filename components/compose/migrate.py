"""Migrate the files of a Compose project from `extends` to anchors, proven equivalent.

This is the I/O layer: it reads the files, asks the planner for the new text, runs
Docker Compose's `config` on the original and on the candidate (written next to the
original under a hidden name, so relative paths resolve alike) and only then replaces
the original atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .docker_compose import ComposeConfigError, compose_config
from .equivalence import differences, normalize
from .files import hidden_temp_beside, replace_with
from .migration_plan import Planner, Summary
from .resolve import Resolver, project_env
from .yaml_source import MigrationError, Source, load_source, services_using_extends

DEFAULT_PROJECT_NAME = "slipway-migrate"


class NotEquivalentError(MigrationError):
    """Compose's model of the migrated files differs from the original's."""

    def __init__(self, file: Path, paths: list[str]) -> None:
        self.paths = paths
        shown = "\n  ".join(paths[:20]) + ("\n  ..." if len(paths) > 20 else "")
        super().__init__(
            "the migrated file would mean something else to Docker Compose; nothing was "
            f"written. Differing paths:\n  {shown}",
            file=file,
        )


@dataclass
class FileResult:
    """One project file: its text before and after, and what changed."""

    path: Path
    original: str
    migrated: str
    summary: Summary

    @property
    def changed(self) -> bool:
        return self.original != self.migrated


def uses_extends(source: Source) -> bool:
    """True when any service of the file still has `extends`."""
    return bool(services_using_extends(source))


@dataclass
class Project:
    """The `-f` files that Compose reads together, and which of them to rewrite."""

    files: list[Path]
    targets: list[Path]
    project_dir: Path
    project_name: str = DEFAULT_PROJECT_NAME

    @classmethod
    def of(
        cls,
        files: Sequence[Path | str],
        targets: Sequence[Path | str] | None = None,
        project_dir: Path | str | None = None,
        project_name: str = DEFAULT_PROJECT_NAME,
    ) -> Project:
        paths = [Path(f).absolute() for f in files]
        chosen = [Path(t).absolute() for t in targets] if targets else list(paths)
        for target in chosen:
            if target not in paths:
                raise MigrationError(
                    "is not one of the project's -f files; add it with -f", file=target
                )
        root = Path(project_dir).absolute() if project_dir else paths[0].parent
        return cls(paths, chosen, root, project_name)


def plan_project(project: Project) -> list[FileResult]:
    """The migrated text of every target (pure apart from reading the files)."""
    cache: dict[Path, Source] = {}

    def load(path: Path) -> Source:
        key = path.resolve()
        if key not in cache:
            cache[key] = load_source(path)
        return cache[key]

    for path in project.files:
        if not path.is_file():
            raise MigrationError("file not found; check the path", file=path)
        load(path)
    resolver = Resolver(project.project_dir, project_env(project.project_dir), load)
    results = []
    for target in project.targets:
        source = load(target)
        planner = Planner(source, resolver, project.project_dir)
        plan = planner.plan() if uses_extends(source) else None
        migrated = plan.apply() if plan else source.text
        summary = plan.summary if plan else Summary()
        if plan:
            check = load_source(target, migrated)
            if uses_extends(check):
                raise MigrationError("internal error: `extends` left after migration", file=target)
        results.append(FileResult(target, source.text, migrated, summary))
    return results


def verify(project: Project, results: list[FileResult]) -> dict[Path, Path]:
    """Prove the candidates equivalent; returns target → hidden candidate file (the
    caller moves or deletes them). Raises NotEquivalentError or MigrationError."""
    changed = [r for r in results if r.changed]
    temps: dict[Path, Path] = {}
    try:
        before = _config(project, project.files, project.files[0])
        for result in changed:
            temps[result.path] = hidden_temp_beside(result.path, result.migrated)
        candidate_files = [temps.get(f, f) for f in project.files]
        after = _config(project, candidate_files, changed[0].path if changed else project.files[0])
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise
    diffs = list(differences(normalize(before), normalize(after)))
    if diffs:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise NotEquivalentError(changed[0].path, diffs)
    return temps


def _config(project: Project, files: list[Path], blame: Path) -> dict:
    try:
        return compose_config(
            files, project_name=project.project_name, project_directory=project.project_dir
        )
    except ComposeConfigError as exc:
        said = (
            exc.reason if exc.silent else f"Docker Compose `config` rejects the files: {exc.reason}"
        )
        raise MigrationError(said, file=blame) from exc


def migrate(project: Project, *, write: bool = True, backup: bool = True) -> list[FileResult]:
    """Plan, prove and (when `write`) replace the project's target files."""
    results = plan_project(project)
    if not any(r.changed for r in results):
        return results
    temps = verify(project, results)
    try:
        if write:
            for path, temp in temps.items():
                replace_with(path, temp, backup=backup)
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return results
