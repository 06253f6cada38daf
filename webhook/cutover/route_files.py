"""The proxy's routes folder, written by the service with plain file operations.

The proxy container binds this folder at /srv/slipway (webhook/cutover/caddy.py explains
the layout Caddy reads). It is a folder of the service's own binds root, which the deploy
service container mounts at the same path as on the Docker host, so the path the service
writes is the path the engine binds. Nothing runs inside the proxy to change a route: a
`docker exec` costs the proxy's own CPU time next to Caddy, and took 0.1-0.2 s per call.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from components.atomic_write import link_atomically, make_writable_command, write_atomically
from webhook.cutover.caddy import LIVE, Release, read_release

RELEASES = "releases"
READABLE = 0o644  # Caddy reads them as the proxy's user, whoever wrote them


class RoutesFolderError(RuntimeError):
    """The routes folder cannot be written; the message names the fix."""


@dataclass(frozen=True)
class RoutesFolder:
    """One proxy's routes folder on the service's side."""

    root: Path

    def create(self) -> None:
        """Make the folder; a clear error with the fix when the service may not."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except PermissionError as error:
            uid = os.getuid()
            raise RoutesFolderError(
                f"the proxy's routes folder {self.root} cannot be created by this service "
                f"(uid {uid}): {error.strerror}. On the Docker host, "
                f"{make_writable_command(self.root.parent, uid)} and deploy again "
                "(docs/cutover.md)"
            ) from error

    def live(self) -> Release | None:
        """The release the `live` link names, or None before the first switch."""
        try:
            text = (self.root / LIVE / "release.json").read_text()
        except FileNotFoundError:
            return None
        return read_release(text)

    def write_release(self, release: Release, files: Mapping[str, str]) -> None:
        """Write a release directory. Every file goes in by rename: Caddy may be reading it
        (a live release gets new slots)."""
        directory = self.root / RELEASES / release.name
        for name, text in files.items():
            write_atomically(directory / name, text, READABLE)

    def point(self, link: str, release: str) -> None:
        """Point `link` (`live` or `candidate`) at a release directory in one rename (the
        folder exists: `create` made it, `write_release` wrote into it)."""
        link_atomically(f"{RELEASES}/{release}", self.root / link)

    def prune(self, keep: Sequence[str]) -> None:
        """Remove every release directory but `keep`'s."""
        releases = self.root / RELEASES
        for directory in releases.iterdir() if releases.is_dir() else ():
            if directory.name not in keep:
                shutil.rmtree(directory)
