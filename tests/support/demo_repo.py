"""A real git repository of the project whose commits are releases of the demo app.

The repository holds what a deployment needs (Pulumi.yaml, __main__.py, components/,
stacks/demo/) and one stack config of its own (project name, loopback port). Each release
commit rewrites the web service's health endpoint, so its image is rebuilt and its
container replaced, and the endpoint says which release answers:

- `healthy(name)`: answers 200 `ok release=<name>`;
- `unhealthy(name)`: runs, but answers 503 (its own healthcheck fails too);
- `crashing(name)`: the web container exits at once;
- `slow(name, seconds)`: healthy, but its image takes `seconds` longer to build.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support.git import git
from tests.support.real_stack import REPO_ROOT

_COPIED = ("Pulumi.yaml", "__main__.py", "components", "stacks/demo")
_HEALTHZ = "stacks/demo/web/www/cgi-bin/healthz"
_WEB_DOCKERFILE = "stacks/demo/web/Dockerfile"

HEALTHY = """#!/bin/sh
if wget -q -O /dev/null http://db:5432/ready; then
  printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nok release={name}\\n'
else
  printf 'Status: 503 Service Unavailable\\r\\n\\r\\ndb unreachable\\n'
fi
"""
UNHEALTHY = """#!/bin/sh
printf 'Status: 503 Service Unavailable\\r\\n\\r\\nbroken release={name}\\n'
"""


@dataclass
class DemoRepo:
    path: Path
    stack: str
    project: str
    port: int

    @classmethod
    def create(cls, path: Path, stack: str, project: str, port: int) -> DemoRepo:
        path.mkdir(parents=True)
        for name in _COPIED:
            source, target = REPO_ROOT / name, path / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        (path / f"Pulumi.{stack}.yaml").write_text(
            "config:\n"
            "  slipway:composeFiles:\n    - stacks/demo/compose.yml\n"
            f"  slipway:composeProject: {project}\n"
            "  slipway:healthChecks:\n"
            f"    - url: http://127.0.0.1:{port}/cgi-bin/healthz\n"
            "      status: 200\n"
            "      timeoutSeconds: 2\n"
        )
        # The port is fixed per repository: Compose interpolates it from the file itself.
        compose = path / "stacks/demo/compose.yml"
        compose.write_text(compose.read_text().replace("${DEMO_WEB_PORT:-8080}", str(port)))
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "user.email", "e2e@slipway.test")
        git(path, "config", "user.name", "e2e")
        repo = cls(path, stack, project, port)
        repo._commit("initial import")
        return repo

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/healthz"

    def healthy(self, name: str) -> str:
        return self._release(HEALTHY.format(name=name), crash=False, message=f"healthy {name}")

    def unhealthy(self, name: str) -> str:
        return self._release(UNHEALTHY.format(name=name), crash=False, message=f"unhealthy {name}")

    def crashing(self, name: str) -> str:
        return self._release(HEALTHY.format(name=name), crash=True, message=f"crashing {name}")

    def slow(self, name: str, seconds: int) -> str:
        return self._release(
            HEALTHY.format(name=name), crash=False, message=f"slow {name}", build_seconds=seconds
        )

    def _release(self, healthz: str, *, crash: bool, message: str, build_seconds: int = 0) -> str:
        (self.path / _HEALTHZ).write_text(healthz)
        dockerfile = self.path / _WEB_DOCKERFILE
        lines = [
            line
            for line in dockerfile.read_text().splitlines()
            if "exit 3" not in line and "&& sleep" not in line
        ]
        if build_seconds:
            # A new nonce each time: the engine's build cache must not skip the wait.
            lines.append(f"RUN echo {uuid.uuid4().hex} && sleep {build_seconds}")
        if crash:
            lines.append('CMD ["sh", "-c", "echo web: cannot start; exit 3"]')
        dockerfile.write_text("\n".join(lines) + "\n")
        return self._commit(message)

    def _commit(self, message: str) -> str:
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD")
