"""What the proxy routes to: the release directories and `live`/`candidate` links of its
routes folder (webhook/cutover/route_files.py), and the config that reads them
(webhook/cutover/caddy.py explains the layout). `stage` and `switch` load a config only
when its shape changed; otherwise a switch is one rename."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from webhook.cutover.caddy import (
    CANDIDATE,
    LIVE,
    CaddyAdmin,
    Release,
    RouteSpec,
    release_files,
    render,
    slots_for,
)
from webhook.cutover.route_files import RoutesFolder


@dataclass
class ProxyRoutes:
    folder: RoutesFolder
    admin: CaddyAdmin
    routes: Sequence[RouteSpec]
    grace: float
    slots: dict[str, int] = field(default_factory=dict)  # set by `stage`

    def live(self) -> Release | None:
        """The release users reach now (addresses), or None before the first switch."""
        return self.folder.live()

    def stage(self, candidate: Release, live: Release | None, *, serving: bool) -> None:
        """Write the candidate's directory, point the private route at it, and make sure the
        loaded config has a slot for every container of both releases. Users stay where
        they are: on `live`, or on whatever the `live` link names when `serving` (the
        candidate itself, retried after an interruption)."""
        slots = slots_for(live, candidate)
        ports = {route.service: route.port for route in self.routes}
        self.folder.write_release(candidate, release_files(candidate, slots, ports))
        if live is not None:  # new slots for the live release, if the candidate has more
            self.folder.write_release(live, release_files(live, slots, ports))
        self.folder.point(CANDIDATE, candidate.name)
        self.admin.ensure(render(self.routes, slots, public=serving, grace=self.grace))
        self.slots = slots

    def switch(self, release: str) -> None:
        """Send users to `release` (staged before): one rename of the `live` link. The
        first release also needs the public routes in the config, loaded after the link."""
        self.folder.point(LIVE, release)
        self.admin.ensure(render(self.routes, self.slots, public=True, grace=self.grace))

    def prune(self, keep: str) -> None:
        """Remove every release directory but `keep`'s (the live one)."""
        self.folder.prune([keep])
