"""The JSON summary `python -m webhook.runners.stack_process` (`--protocol text`) prints last.

`Reply.result` in webhook/runners/stack_process.py prints it, indented, after the streamed
engine log: its first line is a `{` at the start of a line. Light (no Pulumi), so that
scripts/up.sh can ask it for the URLs of a stack that just went up:

    python -m webhook.runners.summary urls FILE   # the healthChecks' URLs, space-separated
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class SummaryError(ValueError):
    """The output holds no JSON summary of `stack_process`."""


def last_summary(text: str) -> dict[str, Any]:
    """The last JSON object that starts a line of `text` (the log before it and any text
    after it are skipped); SummaryError when there is none (pure)."""
    decoder = json.JSONDecoder()
    start = len(text)
    while (start := text.rfind("{", 0, start)) != -1:
        if start == 0 or text[start - 1] == "\n":
            try:
                found, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                continue
            if isinstance(found, dict):
                return found
    raise SummaryError(
        "the output holds no JSON summary of `python -m webhook.runners.stack_process` (it "
        "prints one last, with --protocol text, only when the operation succeeded): read "
        "the error in the output, fix it and run the operation again"
    )


def health_urls(summary: Mapping[str, Any]) -> list[str]:
    """The URLs of the `healthChecks` output in `summary` ([] when it has none)."""
    checks = (summary.get("outputs") or {}).get("healthChecks") or []
    return [str(check.get("url")) for check in checks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webhook.runners.summary")
    parser.add_argument("operation", choices=("urls",))
    parser.add_argument("output", type=Path, help="what `stack_process up` printed")
    args = parser.parse_args(argv)
    try:
        print(" ".join(health_urls(last_summary(args.output.read_text()))))
    except (SummaryError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
