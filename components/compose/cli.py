"""`python -m components.compose migrate`: the command line of the Compose toolkit.

Exit codes: 0 done (or nothing to do); 1 `--check` found files that still use
`extends`; 2 usage error; 3 bad input (missing base service or file, `extends` cycle,
invalid YAML, a file Compose rejects); 4 the result would not be equivalent (nothing
written); 5 Docker Compose not found.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .docker_compose import ComposeNotFoundError
from .migrate import (
    DEFAULT_PROJECT_NAME,
    FileResult,
    NotEquivalentError,
    Project,
    migrate,
    uses_extends,
)
from .yaml_source import MigrationError, load_source

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_NOT_EQUIVALENT = 4
EXIT_NO_COMPOSE = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m components.compose", description="Compose toolkit: migrate `extends`."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    m = commands.add_parser(
        "migrate",
        help="rewrite Compose files so that no `extends` is left (YAML anchors instead)",
        description="Each FILE is its own project unless -f is given: then the -f files form "
        "one project (like `docker compose -f a -f b`) and FILEs pick which to rewrite "
        "(default: all of them).",
    )
    m.add_argument("files", nargs="*", type=Path, metavar="FILE")
    m.add_argument(
        "-f",
        "--file",
        dest="project_files",
        action="append",
        type=Path,
        default=[],
        help="a file of the project, in `docker compose -f` order (repeatable)",
    )
    m.add_argument(
        "--project-directory",
        type=Path,
        help="project directory (default: the first file's directory)",
    )
    m.add_argument(
        "-p",
        "--project-name",
        default=DEFAULT_PROJECT_NAME,
        help="project name used for both `config` runs",
    )
    mode = m.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a file still uses `extends`",
    )
    mode.add_argument(
        "--diff", action="store_true", help="prove and print a unified diff instead of writing"
    )
    m.add_argument("--no-backup", action="store_true", help="do not keep FILE.orig")
    return parser


def _projects(args: argparse.Namespace) -> list[Project]:
    if args.project_files:
        return [
            Project.of(
                args.project_files, args.files or None, args.project_directory, args.project_name
            )
        ]
    return [Project.of([f], None, args.project_directory, args.project_name) for f in args.files]


def _say(stream: TextIO, message: str) -> None:
    """One plain-text line: the same in a terminal, a CI log and a pipe (no markup, no colour)."""
    print(message, file=stream, flush=True)


def _print_summary(stream: TextIO, result: FileResult, written: bool) -> None:
    s = result.summary
    if not result.changed:
        _say(stream, f"✓ {result.path}: no `extends`, unchanged")
        return
    verb = "migrated" if written else "would migrate"
    _say(
        stream,
        f"✓ {result.path}: {verb} {len(s.services)} service(s) "
        f"({', '.join(s.services)}); anchors created: {', '.join(s.anchors) or 'none'}",
    )
    if s.x_fields:
        _say(stream, f"    copied from other files as: {', '.join(s.x_fields)}")
    for item in s.written_out:
        _say(stream, f"    written in full: {item.service}.{item.key} ({item.reason})")


def run(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code. `err` is `out` when only `out` is given."""
    args = build_parser().parse_args(argv)
    err = err or out or sys.stderr
    out = out or sys.stdout
    if not args.files and not args.project_files:
        _say(err, "nothing to do: give FILE arguments or -f files")
        return EXIT_USAGE
    try:
        if args.check:
            return _check(args, out)
        for project in _projects(args):
            results = migrate(project, write=not args.diff, backup=not args.no_backup)
            for result in results:
                if args.diff:
                    out.writelines(
                        difflib.unified_diff(
                            result.original.splitlines(True),
                            result.migrated.splitlines(True),
                            str(result.path),
                            f"{result.path} (migrated)",
                        )
                    )
                _print_summary(out if not args.diff else err, result, not args.diff)
    except NotEquivalentError as exc:
        _say(err, f"✗ {exc}")
        return EXIT_NOT_EQUIVALENT
    except MigrationError as exc:
        _say(err, f"✗ {exc}")
        return EXIT_BAD_INPUT
    except ComposeNotFoundError as exc:
        _say(err, f"✗ {exc}")
        return EXIT_NO_COMPOSE
    return EXIT_OK


def _check(args: argparse.Namespace, out: TextIO) -> int:
    still = []
    for project in _projects(args):
        for target in project.targets:
            if uses_extends(load_source(target)):
                still.append(target)
                _say(out, f"✗ {target}: still uses `extends` (run `migrate` on it)")
            else:
                _say(out, f"✓ {target}: no `extends`")
    return EXIT_CHECK_FAILED if still else EXIT_OK
