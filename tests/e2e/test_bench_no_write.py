"""`--no-write` leaves docs/performance.md alone, for every benchmark (issue 34 item 9).

Only 5 of 11 benchmarks read the flag; the others ignored it and rewrote the doc.
`bench/performance_doc.write_section` now honours it for all, and a benchmark that parses
its own options must accept it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO_ROOT

BENCHES = sorted(p for p in (REPO_ROOT / "bench").glob("*.py") if "write_section(" in p.read_text())


def test_write_section_leaves_the_doc_alone_under_no_write(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n")
    script = (
        "import sys; from pathlib import Path; from bench.performance_doc import write_section;"
        f"write_section('x', 'new', Path({str(doc)!r}))"
    )
    for argv, changed in ((["--no-write"], False), ([], True)):
        subprocess.run([sys.executable, "-c", script, *argv], cwd=REPO_ROOT, check=True, timeout=60)
        assert ("bench:x" in doc.read_text()) is changed, (argv, doc.read_text())


def test_every_benchmark_that_parses_options_accepts_no_write() -> None:
    assert len(BENCHES) >= 11, BENCHES
    refusing = [
        p.name for p in BENCHES
        if "parse_args(" in p.read_text() and not re.search(r"[\"']--no-write[\"']", p.read_text())
    ]  # fmt: skip
    assert not refusing, f"argparse would refuse --no-write: {refusing}"
