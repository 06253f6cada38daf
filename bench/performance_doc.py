"""Write one benchmark's section of docs/performance.md between its markers (atomically).

`--no-write` on any benchmark's command line (or SLIPWAY_BENCH_NO_WRITE=1) leaves the doc
alone: the benchmark still prints its results.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from components.atomic_write import write_atomically

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, text: str, path: Path = PERFORMANCE) -> None:
    """Replace the `<!-- bench:name -->` section of `path` with `text`, or append it;
    nothing when `--no-write` was asked for (see `writing_allowed`)."""
    if not writing_allowed():
        print(f"--no-write: {path.name} left as it is (section {name})", file=sys.stderr)
        return
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{text}\n{end}"
    current = path.read_text() if path.exists() else "# Performance\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    write_atomically(path, updated)


def writing_allowed(argv: list[str] | None = None) -> bool:
    """False when the benchmark was run with `--no-write` or SLIPWAY_BENCH_NO_WRITE=1."""
    argv = sys.argv[1:] if argv is None else argv
    return "--no-write" not in argv and os.environ.get("SLIPWAY_BENCH_NO_WRITE") != "1"
