"""Third-party GitHub Actions used by the deploy workflow, pinned to full commit SHAs.

A tag can be moved to other code; a commit SHA cannot. The version is kept next to the SHA
so that a reader (and Dependabot) can tell what it is. To bump one: resolve the new tag with
`git ls-remote https://github.com/<action> refs/tags/<version>` (use the peeled `^{}` line
for annotated tags), change both fields here, then re-render the golden file
(`python -m components.github --write .github/workflows/deploy.yml`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedAction:
    """An action reference `owner/repo@<40-hex SHA>` with the release it corresponds to."""

    name: str
    sha: str
    version: str

    def uses(self) -> str:
        """The `uses:` value followed by the version comment."""
        return f"{self.name}@{self.sha} # {self.version}"


CHECKOUT = PinnedAction(
    name="actions/checkout",
    sha="08c6903cd8c0fde910a37f88322edcfb5dd907a8",
    version="v5.0.0",
)
SETUP_PYTHON = PinnedAction(
    name="actions/setup-python",
    sha="e797f83bcb11b83ae66e0230d6156d7c80228e7c",
    version="v6.0.0",
)

ALL_PINS = (CHECKOUT, SETUP_PYTHON)
