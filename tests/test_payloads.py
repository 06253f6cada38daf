"""The GitHub payloads shipped in tests/support/payloads are the npm package's, unchanged."""

from __future__ import annotations

import json

import pytest

from tests.support.payloads import PACKAGE, SHIPPED, select


@pytest.mark.node
def test_the_shipped_payloads_equal_the_packages_selection() -> None:
    shipped = json.loads(SHIPPED.read_text())
    assert shipped == select(json.loads(PACKAGE.read_text())), (
        "tests/support/payloads/index.json differs from @octokit/webhooks-examples: run "
        "`.venv/bin/python -m tests.support.payloads` and commit index.json"
    )


def test_the_shipped_payloads_hold_what_the_tests_use() -> None:
    by_name = {g["name"]: g["examples"] for g in json.loads(SHIPPED.read_text())}
    assert {"ping", "push", "issues", "pull_request"} <= set(by_name)
    actions = {e["action"] for e in by_name["pull_request"]}
    assert {"opened", "synchronize", "reopened", "closed"} <= actions
    assert any(p["ref"] == "refs/heads/master" for p in by_name["push"])
