"""What translation knows about the host, and how it reports problems (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.compose_stack.support import Rule, Support


class ComposeTranslationError(Exception):
    """The Compose model uses keys that cannot be declared; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{len(problems)} Compose setting(s) cannot be deployed (see "
            f"docs/compose-support.md):\n{lines}"
        )


@dataclass(frozen=True)
class FileInfo:
    """Mode and owner of a regular file (None: unknown, the provider's default applies)."""

    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True)
class HostFacts:
    """What translation may know about the machine running Pulumi, injected for purity."""

    project_dir: str  # Compose's project directory (absolute)
    is_file: Callable[[str], bool] = lambda _path: False
    environ: Mapping[str, str] = field(default_factory=dict)
    remote_docker_host: bool = False
    file_info: Callable[[str], FileInfo | None] | None = None  # None: from `is_file` only
    # For Compose's labels: the files and folder as the stack config names them (stable from
    # checkout to checkout), and the version of the Compose that resolved them.
    config_files: tuple[str, ...] = ()
    working_dir: str | None = None  # None: `project_dir`
    compose_version: str = ""
    # Compose's config hash per service (`docker compose config --hash '*'`): the label
    # `docker compose ps/logs/top/ls` need to list a container. Empty: no label.
    service_hashes: Mapping[str, str] = field(default_factory=dict)
    # Under the deploy service: the stack's folder that outlives checkouts; binds of paths in
    # the checkout (`checkout_dir`, the Pulumi project folder) point there instead
    # (components/compose_stack/project_binds.py). None: they point into the checkout, as
    # Compose's point into the project folder.
    binds_dir: str | None = None
    checkout_dir: str | None = None  # None: `project_dir`

    def stat(self, path: str) -> FileInfo | None:
        """The regular file at `path` on this machine, or None."""
        if self.file_info is not None:
            return self.file_info(path)
        return FileInfo() if self.is_file(path) else None


@dataclass
class Report:
    """Problems (the program fails) and warnings (logged), collected over the whole model."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def reject(self, where: str, key: str, fix: str) -> None:
        self.problems.append(f"{where}: `{key}` is not supported: {fix}")

    def warn(self, where: str, key: str, why: str) -> None:
        self.warnings.append(f"{where}: `{key}` is ignored: {why}")

    def check(
        self, where: str, table: Mapping[str, Rule], mapping: Mapping[str, Any], prefix: str = ""
    ) -> dict[str, Any]:
        """Report warned/rejected/unknown keys; return the keys to translate (non-null)."""
        kept: dict[str, Any] = {}
        for key, value in mapping.items():
            if value is None or key.startswith("x-"):
                continue
            rule = table.get(key)
            name = prefix + key
            if rule is None:
                self.reject(
                    where,
                    name,
                    "Slipway does not know this key; remove it, or teach "
                    "components/compose_stack/support.py about it",
                )
            elif rule.support is Support.REJECTED:
                self.reject(where, name, rule.note)
            elif rule.support is Support.WARNED:
                if value in ({}, []):
                    continue  # Compose writes e.g. `placement: {}` for every `deploy`
                self.warn(where, name, rule.note)
            else:
                kept[key] = value
        return kept
