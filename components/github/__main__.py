"""Print the rendered deploy workflow, or write it atomically (the golden file).

python -m components.github                                   # print
python -m components.github --write .github/workflows/deploy.yml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.atomic_write import write_atomically
from components.github.workflow import WorkflowSpec, WorkflowSpecError, render_workflow


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
    try:
        text = render_workflow(spec)
    except WorkflowSpecError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.write:
        write_atomically(args.write, text)
        print(f"wrote {args.write}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
