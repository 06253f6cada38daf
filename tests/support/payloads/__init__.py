"""Real GitHub webhook payloads: the few of @octokit/webhooks-examples the tests use, shipped
here (index.json, the package's format), and helpers that adjust them to a test's commits.

Shipped so that the service's tests need no Node: `python -m tests.support.payloads` writes
index.json again from tools/node_modules; tests/test_payloads.py checks it equals the
package's selection whenever the package is installed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.support.fake_github import REPO
from tests.support.paths import TOOLS_DIR

SHIPPED = Path(__file__).with_name("index.json")
PACKAGE = TOOLS_DIR / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
# Every example of these events...
ALL_OF = ("ping", "push")
# ...the first of these, and the first of each of these pull_request actions.
FIRST_OF = ("issues",)
PR_ACTIONS = ("opened", "synchronize", "reopened", "closed", "labeled", "assigned",
              "review_requested")  # fmt: skip


def select(index: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples the tests use, from the package's index, in the package's order."""
    chosen = []
    for group in index:
        name, examples = group["name"], group["examples"]
        if name in ALL_OF:
            picked = examples
        elif name in FIRST_OF:
            picked = examples[:1]
        elif name == "pull_request":
            firsts = {a: next(e for e in examples if e.get("action") == a) for a in PR_ACTIONS}
            picked = [e for e in examples if any(e is first for first in firsts.values())]
        else:
            continue
        chosen.append({"name": name, "examples": picked})
    return chosen


def example(examples_dir: Path, event: str, action: str | None = None) -> dict[str, Any]:
    """The first @octokit/webhooks-examples payload of `event` (with `action`)."""
    index = json.loads((examples_dir / "index.json").read_text())
    (group,) = [group for group in index if group["name"] == event]
    for payload in group["examples"]:
        if action is None or payload.get("action") == action:
            return copy.deepcopy(payload)
    raise LookupError(f"no {event} {action} example")


def pull_request(examples_dir: Path, action: str, sha: str, **changes: Any) -> dict[str, Any]:
    """A real pull_request payload, its head moved to `sha` (same repository unless told)."""
    payload = example(examples_dir, "pull_request", action)
    assert payload["repository"]["full_name"] == REPO
    pr = payload["pull_request"]
    pr["head"]["sha"] = sha
    for key, value in changes.items():
        if key == "head_repo":
            pr["head"]["repo"] = value
        else:
            pr[key] = value
    return payload


def push(examples_dir: Path, sha: str) -> dict[str, Any]:
    payload = example(examples_dir, "push")
    payload.update(ref="refs/heads/main", after=sha, deleted=False)
    return payload


def write_shipped() -> None:
    """index.json again from the installed package (`python -m tests.support.payloads`)."""
    SHIPPED.write_text(json.dumps(select(json.loads(PACKAGE.read_text())), indent=1) + "\n")
