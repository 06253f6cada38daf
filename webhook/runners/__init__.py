"""Stack runners: the interface the orchestrator drives, and its implementations."""

from webhook.runners.base import (
    OnOutput,
    RunnerError,
    StackLockedError,
    StackRunner,
    StackSession,
)

__all__ = ["OnOutput", "RunnerError", "StackLockedError", "StackRunner", "StackSession"]
