"""A program that refuses its stack says so once (in the process that runs it inline).

A Pulumi program refuses a stack by raising `pulumi.RunError` (the root `__main__.py` does
for a wrong stack config). The SDK's inline server logs that error as a diagnostic and also
returns it as the run's error, which the engine prints a second time as "an unhandled error
occurred", and `stack_process`'s last line quoted it a third time: `make up` showed each
problem three times. Pulumi's own Python host logs a RunError and then *bails* (the engine
adds nothing); `install` makes the inline server do the same, and `refusal` gives the
caller the message, so that its last line can point at the diagnostic instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.automation import _stack
from pulumi.automation._server import LanguageServer
from pulumi.errors import RunError

_refused: list[str] = []  # the messages of this process's refusals, in order


class _BailingServer(LanguageServer):
    """The SDK's inline language server; a run the program refused ends as a bail."""

    def __init__(self, program: Callable[[], None]) -> None:
        def run() -> None:
            try:
                program()
            except RunError as error:
                _refused.append(str(error))
                raise

        super().__init__(run)

    def Run(self, request: Any, context: Any) -> Any:
        before = len(_refused)
        result = super().Run(request, context)
        if len(_refused) > before:  # the SDK has logged it: the engine must not say it again
            result.bail, result.error = True, ""
        return result


def install() -> None:
    """Run every inline program of this process under `_BailingServer`."""
    _stack.LanguageServer = _BailingServer


def refusal() -> str | None:
    """The message of the last refusal in this process, or None when none refused."""
    return _refused[-1] if _refused else None


def pointer(message: str) -> str:
    """The last line for a refusal the diagnostics already show: what was refused (the first
    line of a message that lists its problems below it) and where to read them."""
    lines = message.strip().splitlines()
    what = lines[0].rstrip(":").strip() if len(lines) > 1 else "the program refused the stack"
    return f"{what}: see Diagnostics above"
