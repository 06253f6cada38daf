"""What a preview found: the per-resource changes and errors the PR comment shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Operation = Literal["create", "update", "replace", "delete"]
#: The order operations appear in, in the comment's table and details.
OPERATIONS: tuple[Operation, ...] = ("create", "update", "replace", "delete")


@dataclass(frozen=True)
class ResourceChange:
    """One resource the preview would change, with the property names that change."""

    urn: str
    type: str
    name: str
    op: Operation
    changed: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviewReport:
    """A finished preview of one pull request head commit on one stack."""

    stack: str
    repository: str
    pr_number: int
    head_sha: str
    changes: tuple[ResourceChange, ...] = ()
    errors: tuple[str, ...] = ()
    failed: bool = False
    log_url: str | None = None

    def count(self, op: Operation) -> int:
        return sum(1 for change in self.changes if change.op == op)
