"""What the proxy routes to: the release directories and `live`/`candidate` symlinks in the
proxy container, and the config that reads them (webhook/cutover/caddy.py explains the
layout). Each method is one `docker exec`; `stage` and `switch` load a config only when
its shape changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from webhook.cutover import engine
from webhook.cutover.caddy import (
    CANDIDATE,
    LIVE,
    ROUTES_DIR,
    CaddyAdmin,
    Release,
    RouteSpec,
    point_script,
    prune_script,
    read_release,
    release_files,
    render,
    slots_for,
    write_release_script,
)


@dataclass
class ProxyRoutes:
    proxy: str  # the proxy container's name
    admin: CaddyAdmin
    routes: Sequence[RouteSpec]
    grace: float
    slots: dict[str, int] = field(default_factory=dict)  # set by `stage`

    def live(self) -> Release | None:
        """The release users reach now (addresses), or None before the first switch."""
        script = f"cat {ROUTES_DIR}/{LIVE}/release.json 2>/dev/null; true"
        return read_release(engine.proxy_shell(self.proxy, script))

    def stage(self, candidate: Release, live: Release | None, *, serving: bool) -> None:
        """Write the candidate's directory, point the private route at it, and make sure the
        loaded config has a slot for every container of both releases. Users stay where
        they are: on `live`, or on whatever the `live` link names when `serving` (the
        candidate itself, retried after an interruption)."""
        slots = slots_for(live, candidate)
        ports = {route.service: route.port for route in self.routes}
        scripts = [write_release_script(candidate, release_files(candidate, slots, ports))]
        if live is not None:  # new slots for the live release, if the candidate has more
            scripts.append(write_release_script(live, release_files(live, slots, ports)))
        scripts.append(point_script(CANDIDATE, candidate.name))
        engine.proxy_shell(self.proxy, " && ".join(scripts))
        self.admin.ensure(render(self.routes, slots, public=serving, grace=self.grace))
        self.slots = slots

    def switch(self, release: str) -> None:
        """Send users to `release` (staged before): one rename of the `live` symlink. The
        first release also needs the public routes in the config, loaded after the link."""
        engine.proxy_shell(self.proxy, point_script(LIVE, release))
        self.admin.ensure(render(self.routes, self.slots, public=True, grace=self.grace))

    def prune(self, keep: str) -> None:
        """Remove every release directory but `keep`'s (the live one)."""
        engine.proxy_shell(self.proxy, prune_script([keep]))
