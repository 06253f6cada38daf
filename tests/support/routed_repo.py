"""The demo repository (tests/support/demo_repo.py) deploying stacks/demo/routed.yml: web is
routed through Slipway's proxy, which publishes the repository's loopback port."""

from __future__ import annotations

from pathlib import Path

from tests.support.demo_repo import DemoRepo

# Every release also serves its name as a static file (`/release.txt`): the benchmark's
# load asks it, 200 times a second, without a CGI process per request.
RELEASE_FILE = "stacks/demo/web/www/release.txt"
# A release that turns bad `after` seconds after its container starts: the static file goes
# (404) and the health endpoint answers 503 from then on.
TURNING = """#!/bin/sh
if [ -f /www/release.txt ]; then
  printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nok release={name}\\n'
else
  printf 'Status: 503 Service Unavailable\\r\\n\\r\\nbroken release={name}\\n'
fi
"""
TURN_MARK = "release.txt) &"  # in the turning release's CMD line, and only there
TURN_CMD = (
    'CMD ["sh", "-c", "(sleep {after}; rm -f /www/release.txt) & exec httpd -f -p 8080 -h /www"]'
)


class TurningRepo(DemoRepo):
    """The demo repository with one more kind of release: healthy, then not."""

    _turning: int | None = None  # seconds, while a turning release is written

    @property
    def release_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/release.txt"

    def turning_unhealthy(self, name: str, after: int) -> str:
        self._turning = after
        try:
            return self._release(TURNING.format(name=name), crash=False, message=f"turning {name}")
        finally:
            self._turning = None

    def _release(self, healthz: str, *, crash: bool, message: str) -> str:
        (self.path / RELEASE_FILE).write_text(f"ok release={message.rsplit(' ', 1)[-1]}\n")
        dockerfile = self.path / "stacks/demo/web/Dockerfile"
        lines = [x for x in dockerfile.read_text().splitlines() if TURN_MARK not in x]
        if self._turning:
            lines.append(TURN_CMD.format(after=self._turning))
        dockerfile.write_text("\n".join(lines) + "\n")
        return super()._release(healthz, crash=crash, message=message)


class RoutedRepo(TurningRepo):
    """... deploying stacks/demo/routed.yml (web behind the proxy)."""

    @classmethod
    def create(cls, path: Path, stack: str, project: str, port: int) -> RoutedRepo:
        repo = super().create(path, stack, project, port)
        routed = path / "stacks/demo/routed.yml"
        routed.write_text(routed.read_text().replace("${DEMO_WEB_PORT:-8080}", str(port)))
        config = path / f"Pulumi.{stack}.yaml"
        config.write_text(config.read_text().replace("compose.yml", "routed.yml"))
        repo._commit("route web through the proxy")
        return repo  # type: ignore[return-value]
