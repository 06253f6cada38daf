"""Write one benchmark's section of docs/performance.md between its markers (atomically)."""

from __future__ import annotations

import re
from pathlib import Path

from components.compose.files import write_atomically

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, text: str, path: Path = PERFORMANCE) -> None:
    """Replace the `<!-- bench:name -->` section of `path` with `text`, or append it."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{text}\n{end}"
    current = path.read_text() if path.exists() else "# Performance\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    write_atomically(path, updated)
