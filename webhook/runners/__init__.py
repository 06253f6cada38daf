"""Stack runners: the interface the orchestrator drives, and its implementations.

The names below are imported from webhook/runners/base.py when first used (PEP 562): base
imports the Pulumi Automation API, which a command using one light submodule of this
package (`make up`'s unchanged_up.py) does not need.
"""

from __future__ import annotations

from typing import Any

_FROM_BASE = ("OnOutput", "RunnerError", "StackLockedError", "StackRunner", "StackSession")


def __getattr__(name: str) -> Any:
    if name in _FROM_BASE:
        from webhook.runners import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_FROM_BASE)
