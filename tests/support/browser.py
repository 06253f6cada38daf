"""A real headless Chromium (Debian's) driven through playwright-core (tests/support/driver.cjs).

`Browser` runs one driver process with a fresh profile (its own --user-data-dir: no
cookies from any other test) and one page, and sends it one command at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

DRIVER = Path(__file__).with_name("driver.cjs")
CHROMIUM = Path(os.environ.get("SLIPWAY_CHROMIUM", "/usr/bin/chromium"))
PLAYWRIGHT = Path(__file__).resolve().parents[2] / "tools" / "node_modules" / "playwright-core"


class BrowserError(AssertionError):
    """The browser could not do what the test asked (the message is Playwright's)."""


def missing_parts() -> list[str]:
    """What this machine lacks to run the browser tests, each with how to get it."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (run scripts/ensure-chromium.sh: apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs)")
    if not PLAYWRIGHT.is_dir():
        missing.append(f"{PLAYWRIGHT} (run `make tools`: npm ci in tools/)")
    return missing


class Browser:
    """One headless Chromium page; use as a context manager."""

    def __init__(self, timezone: str = "UTC") -> None:
        self._profile = tempfile.mkdtemp(prefix="slipway-chromium-")
        self._process = subprocess.Popen(
            ["node", str(DRIVER), self._profile, timezone],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._next = 0
        self._answer()  # "ready"

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BrowserError, OSError, ValueError):
            self.call("close")
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _answer(self) -> Any:
        line = self._process.stdout.readline() if self._process.stdout else ""
        if not line:
            raise BrowserError(f"the browser driver ended (exit {self._process.poll()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise BrowserError(answer["error"])
        return answer.get("value")

    def call(self, op: str, **args: Any) -> Any:
        self._next += 1
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"id": self._next, "op": op, **args}) + "\n")
        self._process.stdin.flush()
        return self._answer()

    def goto(self, url: str) -> dict[str, Any]:
        return self.call("goto", url=url)

    def text(self, selector: str) -> str:
        return self.call("text", selector=selector)

    def evaluate(self, expression: str) -> Any:
        return self.call("evaluate", expression=expression)

    def wait_text(self, selector: str, text: str, timeout_ms: int = 15000) -> None:
        self.call("waitText", selector=selector, text=text, timeout=timeout_ms)

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return Path(self.call("screenshot", path=str(path), fullPage=full_page))

    def sign_in(self, base_url: str, token: str, target: str = "/ui") -> None:
        """Through the login form, as an operator would."""
        self.goto(f"{base_url}{target}")
        self.call("fill", selector="#token", value=token)
        self.call("click", selector="button[type=submit]")
        self.call("waitUrl", pattern=f"{target}$")
