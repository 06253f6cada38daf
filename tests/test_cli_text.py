"""Every project command line prints plain text: the same in a terminal, a CI log and a pipe.

(The migration CLI's own messages: tests/components/compose/test_cli_output.py.)
"""

from __future__ import annotations

import re
import sys

import pytest

from tests.support.cli_runs import run_everywhere

PY = sys.executable
CASES = {
    "migrate-usage": ([PY, "-m", "components.compose", "migrate"], {}, 2, "nothing to do"),
    "workflow-bad-branch": (
        [PY, "-m", "components.github", "--branch", "a b"],
        {},
        2,
        "error: slipway:github.branch 'a b' is not a plain branch name",
    ),
    "caddyfile-missing-url": (
        [PY, "-m", "components.deploy_service", "caddyfile"],
        {},
        2,
        "Error: Missing argument 'url'.",
    ),
    "caddyfile-bad-url": (
        [PY, "-m", "components.deploy_service", "caddyfile", "http://x"],
        {},
        2,
        "error: slipway:webhook.url 'http://x' must start with https://",
    ),
    "service-bad-port": (
        [PY, "-m", "webhook", "serve", "--port", "notaport"],
        {},
        2,
        "Error: Invalid value for '--port'",
    ),
    "client-without-url": (
        [PY, "-m", "deploy_client", "deploy", "--sha", "a" * 40],
        {"SLIPWAY_URL": "", "SLIPWAY_TOKEN": "a-long-test-token"},
        2,
        "error: SLIPWAY_URL is not set",
    ),
}


def _comparable(output: str) -> str:
    """Without the client's HH:MM:SS stamps and GitHub's `::error` annotation lines."""
    lines = [line for line in output.splitlines() if not line.startswith("::")]
    return "\n".join(re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in lines)


@pytest.mark.parametrize("case", list(CASES))
def test_messages_are_plain_and_alike_everywhere(case: str) -> None:
    argv, env, code, expected = CASES[case]
    runs = run_everywhere(argv, env)
    assert {exit_code for exit_code, _ in runs.values()} == {code}, runs
    texts = {where: _comparable(output) for where, (_, output) in runs.items()}
    assert len(set(texts.values())) == 1, texts
    text = texts["pipe"]
    assert expected in text
    assert "\x1b" not in text, "colour codes"
    assert not re.search(r"[╭╰│]|\[/?(red|green|bold)", text), "panels or markup"
    assert "Traceback" not in text
