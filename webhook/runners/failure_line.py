"""One line that says why a stack operation failed: the resource and the reason (pure).

The Automation API's error is the CLI's whole output followed by `stderr:` (often empty),
so its last line said nothing (`error:  stderr:`) and the reason sat in the diagnostics
above, after a Python traceback (issue 34 item 4). This picks, in order: the first
resource that failed with a reason of its own, the program's own error, the last line
that is not one of the error's field names.
"""

from __future__ import annotations

import re

# `+  docker:index:Container p-web-1 creating (0s) error:   sdk-v2/...: Unable to ...`
_RESOURCE = re.compile(
    r"^[\s+~\-<>=]*(?P<type>[\w-]+:[\w/-]*:[\w/-]+) (?P<name>\S+) .*?error: (?P<why>.+)$"
)
_PROGRAM = re.compile(r"error: .*?(?:runtime error|an unhandled error occurred): (?P<why>.+)$")
_NOISE = (
    re.compile(r"^sdk-v2/\S+: "),
    re.compile(r"^sdk\.helper_schema: "),
    re.compile(r": provider=\S+$"),
)
_NOT_A_REASON = re.compile(r"^(\d+ errors? occurred:?|update failed|preview failed)$")
_FIELDS = re.compile(r"^(code|stdout|stderr):\s*\S{0,6}$")


def _clean(why: str) -> str:
    why = why.strip()
    for pattern in _NOISE:
        why = pattern.sub("", why).strip()
    return why


def _items(following: list[str]) -> str:
    """A multi-line error's `  - item` lines (a refusal's list), on one line."""
    items = []
    for line in following:
        if not line.strip().startswith("- "):
            break
        items.append(line.strip().removeprefix("- "))
    return " " + "; ".join(items) if items else ""


def failure_line(message: str) -> str:
    """The line that names what failed and why; "" for an empty message."""
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    for line in lines:
        found = _RESOURCE.match(line)
        if found and found["type"] != "pulumi:pulumi:Stack":
            why = _clean(found["why"])
            if why and not _NOT_A_REASON.match(why):
                return f"{found['type']} {found['name']}: {why}"
    program = []  # the program's error as each place prints it; the diagnostics list items
    for index, line in enumerate(lines):
        found = _PROGRAM.search(line)
        if found:
            why = found["why"].strip()
            while (nested := _PROGRAM.search(f"error: {why}")) and nested["why"] != why:
                why = nested["why"].strip()
            program.append(why + _items(lines[index + 1 :]) if why.endswith(":") else why)
    if program:
        return max(program, key=len)
    kept = [line.strip() for line in lines if not _FIELDS.match(line.strip())]
    return kept[-1] if kept else ""
