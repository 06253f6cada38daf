"""Import a checkout's program modules while the CLI starts, not after it calls back.

An `up` starts the Pulumi CLI, which loads the state and the plugins and only then asks the
inline program to run; the program then spends ~0.3 s (1-4 s on a loaded machine) importing
`pulumi_docker` and `components` (docs/full-up.md). Those imports
need no CLI: `warm_program_imports` starts them in a thread at once, and the program waits
for that thread before it runs (`wait_for_warm_imports`), so the two never import at the
same time. A module that fails to import here is left alone: the program imports it again
and reports the error itself.
"""

from __future__ import annotations

import ast
import importlib
import threading
from pathlib import Path

_warming: list[threading.Thread] = []


def top_level_imports(source: str) -> list[str]:
    """Absolute module names imported at the top level of `source`, in order, once each."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: dict[str, None] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names[node.module] = None
    return [name for name in names if name != "__future__"]


def _import_all(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the program imports it again and reports it
            continue


def warm_program_imports(main_file: Path) -> None:
    """Start importing the modules `main_file` imports at its top level (a daemon thread)."""
    try:
        source = main_file.read_text(encoding="utf-8")
    except OSError:
        return
    thread = threading.Thread(
        target=_import_all, args=(top_level_imports(source),), name="warm-imports", daemon=True
    )
    thread.start()
    _warming.append(thread)


def wait_for_warm_imports() -> None:
    """Block until the imports `warm_program_imports` started have finished."""
    while _warming:
        _warming.pop().join()
