"""The summary `stack_process` prints last, read back (webhook/runners/summary.py): found
after a log with braces of its own, before trailing text, and a clear error without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from webhook.runners.summary import SummaryError, health_urls, last_summary, main

SUMMARY = {
    "outputs": {"healthChecks": [{"url": "http://127.0.0.1:8080/healthz", "status": 200}]},
    "changes": {"same": 4},
    "health": {"healthy": True, "summary": "1/1 checks passed"},
}
# What Reply.result prints: indented, after the engine's log.
PRINTED = json.dumps(SUMMARY, indent=2)


def test_a_summary_alone_is_read() -> None:
    assert last_summary(PRINTED) == SUMMARY


def test_the_summary_after_log_lines_with_braces_of_their_own() -> None:
    log = (
        "Updating (dev):\n"
        '{"output": "a JSON log line"}\n'
        "{ not JSON, a brace that starts a line\n"
        "    ~ labels: {\n"
        '        "a": {"b": 1}\n'
        "    }\n"
        "}\n"
        "Resources: 4 unchanged\n"
    )
    assert last_summary(log + PRINTED + "\n") == SUMMARY


def test_text_after_the_summary_is_skipped() -> None:
    text = f"Resources: 4 unchanged\n{PRINTED}\nmake up: recorded ({{4 containers}})\n"
    assert last_summary(text) == SUMMARY


def test_an_output_without_a_summary_names_the_problem_and_the_fix() -> None:
    failed = 'error: the program failed: {"code": 1} is not valid\n{ a brace, no JSON\n'
    with pytest.raises(SummaryError) as raised:
        last_summary(failed)
    message = str(raised.value)
    assert "no JSON summary" in message and "stack_process" in message, message
    assert "fix it and run the operation again" in message, message
    with pytest.raises(SummaryError):
        last_summary("")


def test_health_urls_of_a_summary() -> None:
    assert health_urls(SUMMARY) == ["http://127.0.0.1:8080/healthz"]
    assert health_urls({"changes": {}}) == []


def test_the_cli_prints_the_urls_up_sh_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    output.write_text("Updating (dev):\n" + PRINTED + "\n")
    assert main(["urls", str(output)]) == 0
    assert capsys.readouterr().out == "http://127.0.0.1:8080/healthz\n"

    output.write_text("error: the CLI failed\n")
    assert main(["urls", str(output)]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and "no JSON summary" in printed.err, printed
