"""Routed releases on the real engine for the cutover tests, without Pulumi.

- `start_release`: one busybox httpd answering `release=<release>` on port 8080 in the
  project's `<project>_default` network, labelled as the cutover labels a routed container.
- `routing` and `quick_cutover`: what a deployment hands the cutover for it (one service,
  `web`), and a cutover whose gate and watch poll every 0.2 s, bounded by WAIT.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from webhook.cutover import engine
from webhook.cutover.steps import Cutover, CutoverPolicy
from webhook.health import HealthPolicy

WAIT = 60  # seconds: bound of each wait, never reached by a passing test


def start_release(
    project: str, release: str, *, options: Sequence[str] = (), healthz: bool = False
) -> str:
    """Run the release's container (more `docker run` options in `options`; with `healthz`,
    it also serves `/healthz`); its name."""
    name = f"{project}-web-{release}-1"
    page = f"mkdir /www && echo release={release} > /www/index.html"
    if healthz:
        page += " && echo ok > /www/healthz"
    engine.docker(
        "run", "-d", "--name", name, "--network", f"{project}_default", *options,
        "--label", f"{engine.PROJECT_LABEL}={project}",
        "--label", f"{engine.RELEASE_LABEL}={release}",
        engine.BASE_IMAGE, "sh", "-c", f"{page} && exec httpd -f -p 8080 -h /www",
    )  # fmt: skip
    return name


def routing(project: str, listen: str, release: str, container: str) -> dict:
    """The routing of one `web` service on port 8080, health path `/`, users on `listen`."""
    service = {"service": "web", "containers": [container], "network": f"{project}_default",
               "port": 8080, "path": "/", "health": "/"}  # fmt: skip
    return {"project": project, "listen": listen, "release": release, "services": [service]}


def quick_cutover(tmp_path: Path, watch_seconds: float) -> Cutover:
    """A cutover with its routes under `tmp_path/binds`, checks every 0.2 s."""
    gate = HealthPolicy(interval_seconds=0.2, consecutive_passes=1, deadline_seconds=WAIT)
    policy = CutoverPolicy(
        gate=gate, watch_seconds=watch_seconds, watch_failures=2,
        watch_interval_seconds=0.2, drain_seconds=0.2,
    )  # fmt: skip
    return Cutover(policy, tmp_path / "binds")
