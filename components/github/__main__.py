"""Print the rendered deploy workflow, or write it atomically (the golden file).

python -m components.github                                   # print
python -m components.github --write .github/workflows/deploy.yml
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from components.github.workflow import WorkflowSpec, render_workflow


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.github", description=__doc__)
    parser.add_argument("--write", type=Path, help="write the workflow to this file")
    parser.add_argument("--branch", default=WorkflowSpec.branch)
    parser.add_argument("--environment", default=WorkflowSpec.environment)
    parser.add_argument(
        "--test-command", default=WorkflowSpec.test_command, help="what the test job runs"
    )
    args = parser.parse_args(argv)
    spec = WorkflowSpec(
        branch=args.branch, environment=args.environment, test_command=args.test_command
    )
    text = render_workflow(spec)
    if args.write:
        write_atomically(args.write, text)
        print(f"wrote {args.write}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
