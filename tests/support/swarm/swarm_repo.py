"""A git repository whose commits are releases of the Swarm tests' stack (tests/support/swarm/app).

Each release builds the two images (`slipway-swarmtest-api:<name>`, `...-worker:<name>`)
on the project's engine, copies them into every lab node (nothing can be pulled) and
commits the Compose file naming them. `healthy=False` makes api's healthcheck fail (503).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.git import git
from tests.support.paths import REPO_ROOT
from tests.support.swarm.lab import SwarmLab
from webhook.cutover.engine import caddy_binary

APP = Path(__file__).resolve().parent / "app"
COMPOSE = "app/compose.yml"
IMAGES = ("api", "worker")


def image(service: str, release: str) -> str:
    return f"slipway-swarmtest-{service}:{release}"


def build_release(lab: SwarmLab, release: str, *, healthy: bool = True) -> None:
    """Both images of `release`, built on the project's engine and loaded into every node."""
    for service in IMAGES:
        subprocess.run(
            ["docker", "build", "-q", "-t", image(service, release),
             "--build-arg", f"RELEASE={release}", "--build-arg", f"HEALTHY={int(healthy)}",
             str(APP / service)],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    lab.load(*(image(s, release) for s in IMAGES))


def build_routed_release(lab: SwarmLab, release: str, *, healthy: bool = True) -> str:
    """The routed test's api image of `release` (app/routed-api: Caddy answering
    `release=<release>`, 503 when not `healthy`), loaded into every node; its release name
    for `SwarmRepo.release` (`routed-<release>`)."""
    name = f"routed-{release}"
    with tempfile.TemporaryDirectory() as context:
        for path in (APP / "routed-api").iterdir():
            shutil.copy2(path, context)
        shutil.copy2(caddy_binary(), Path(context, "caddy"))
        subprocess.run(
            ["docker", "build", "-q", "-t", image("api", name), "--build-arg", f"RELEASE={release}",
             "--build-arg", f"STATUS={200 if healthy else 503}", context],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    lab.load(image("api", name))
    return name


@dataclass
class SwarmRepo:
    path: Path
    stack: str
    project: str
    port: int
    lab: SwarmLab

    @classmethod
    def create(cls, path: Path, stack: str, project: str, port: int, lab: SwarmLab) -> SwarmRepo:
        path.mkdir(parents=True)
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy2(REPO_ROOT / name, path / name)
        for name in ("components",):
            shutil.copytree(
                REPO_ROOT / name, path / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        shutil.copytree(APP, path / "app")
        compose = path / COMPOSE
        compose.write_text(compose.read_text().replace("published: 18180", f"published: {port}"))
        (path / f"Pulumi.{stack}.yaml").write_text(
            "config:\n"
            f"  slipway:composeFiles:\n    - {COMPOSE}\n"
            f"  slipway:composeProject: {project}\n"
            "  slipway:target: swarm\n"
            f"  slipway:dockerHost: {lab.manager}\n"
            "  slipway:healthChecks:\n"
            f"    - url: http://{lab.addrs[0]}:{port}/cgi-bin/healthz\n"
            "      status: 200\n"
            "      timeoutSeconds: 2\n"
        )
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "user.email", "swarm@slipway.test")
        git(path, "config", "user.name", "swarm")
        return cls(path, stack, project, port, lab)

    @property
    def health_urls(self) -> list[str]:
        return [f"http://{addr}:{self.port}/cgi-bin/healthz" for addr in self.lab.addrs]

    def release(self, name: str, *, healthy: bool = True) -> str:
        """Commit the Compose file naming `name`'s images (built beforehand)."""
        compose = self.path / COMPOSE
        text = compose.read_text()
        for service in IMAGES:
            text = re.sub(rf"slipway-swarmtest-{service}:\S+", image(service, name), text)
        compose.write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", f"release {name}")
        return git(self.path, "rev-parse", "HEAD")

    def service_name(self, service: str) -> str:
        return f"{self.project}_{service}"

    def spec_image(self, service: str) -> str:
        """The image the Swarm service's spec names now."""
        done = self.lab.docker(
            "service", "inspect", self.service_name(service),
            "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
        )  # fmt: skip
        return done.stdout.strip()

    def running_images(self, service: str) -> set[str]:
        """The images of the service's running tasks, as each node reports its containers."""
        done = self.lab.docker(
            "service", "ps", self.service_name(service), "--filter", "desired-state=running",
            "--format", "{{.Image}} {{.CurrentState}}",
        )  # fmt: skip
        return {line.split()[0] for line in done.stdout.splitlines() if " Running" in line}

    def update_state(self, service: str) -> str:
        done = self.lab.docker(
            "service", "inspect", self.service_name(service),
            "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
        )  # fmt: skip
        return done.stdout.strip()
