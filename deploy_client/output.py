"""Progress lines a person can follow in the Actions log, with secrets never printed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Reporter:
    """Prints `HH:MM:SS message` lines; replaces every secret by `***` first.

    With `annotate`, errors are also printed as `::error::` workflow commands so that GitHub
    shows them on the run's summary page.
    """

    secrets: Iterable[str] = ()
    annotate: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stdout)

    def __post_init__(self) -> None:
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = sorted({s for s in self.secrets if s and s.strip()}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def line(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(f"{stamp} {self.redact(message)}", file=self.stream, flush=True)

    def error(self, message: str) -> None:
        message = self.redact(message)
        if self.annotate:
            # Workflow commands end at a newline; keep the message on one line.
            print(f"::error title=slipway::{' '.join(message.split())}", file=self.stream)
        self.line(f"error: {message}")
